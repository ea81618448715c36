-- ARGV: 3 checkout time of the failed request, 4 '1' when it set token fields, 5 '1' when it set a lifetime, then
-- name, score pairs. Puts VMs a failed all-or-nothing checkout took back where they were in the ready order.
local restored = 0
for i = 6, #ARGV, 2 do
  local name = ARGV[i]
  local key = VM_PREFIX .. name
  if redis.call('HGET', key, '_state') == 'running' and redis.call('HGET', key, 'checkout') == ARGV[3] then
    redis.call('SREM', K_RUNNING, name)
    redis.call('ZADD', K_READY, ARGV[i + 1], name)
    redis.call('HSET', key, '_state', 'ready')
    redis.call('HDEL', key, 'checkout')
    if ARGV[4] == '1' then
      redis.call('HDEL', key, 'token:token', 'token:user')
    end
    if ARGV[5] == '1' then
      redis.call('HDEL', key, 'lifetime')
    end
    restored = restored + 1
  end
end
return restored
