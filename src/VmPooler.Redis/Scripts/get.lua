-- ARGV: 3 name. The VM's hash (empty when unknown or expired).
local key = VM_PREFIX .. ARGV[3]
if not live(key) then
  return {}
end
return redis.call('HGETALL', key)
