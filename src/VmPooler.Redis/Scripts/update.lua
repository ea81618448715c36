-- ARGV: 3 name, 4 number of fields to remove, the fields, then field/value pairs. 0 when the VM is unknown.
local key = VM_PREFIX .. ARGV[3]
if not live(key) then
  return 0
end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HDEL', key, ARGV[i])
  i = i + 1
end
for j = i, #ARGV, 2 do
  redis.call('HSET', key, ARGV[j], ARGV[j + 1])
end
return 1
