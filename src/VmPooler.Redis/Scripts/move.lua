-- ARGV: 3 name, 4 from, 5 to, 6 number of expectations, then (field, present '1'/'0', value) triples, then
-- field/value pairs to set. Moves the VM only if it is in 'from' and every expectation holds.
local key = VM_PREFIX .. ARGV[3]
if redis.call('HGET', key, '_state') ~= ARGV[4] then
  return 0
end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local actual = redis.call('HGET', key, ARGV[i])
  if ARGV[i + 1] == '1' then
    if actual ~= ARGV[i + 2] then
      return 0
    end
  elseif actual then
    return 0
  end
  i = i + 3
end
leave(ARGV[4], ARGV[3])
enter(ARGV[5], ARGV[3])
redis.call('HSET', key, '_state', ARGV[5])
set_pairs(key, i)
return 1
