-- ARGV: 3 count, 4 checkout time, 5 token ('' none), 6 user, 7 lifetime ('' none).
-- Hands out the 'count' oldest ready VMs of the pool, or none when it has fewer: returns name, score pairs.
local n = tonumber(ARGV[3])
if redis.call('ZCARD', K_READY) < n then
  return {}
end
local taken = redis.call('ZRANGE', K_READY, 0, n - 1, 'WITHSCORES')
for i = 1, #taken, 2 do
  local name = taken[i]
  local key = VM_PREFIX .. name
  redis.call('ZREM', K_READY, name)
  redis.call('SADD', K_RUNNING, name)
  redis.call('HSET', key, '_state', 'running', 'checkout', ARGV[4])
  if ARGV[5] ~= '' then
    redis.call('HSET', key, 'token:token', ARGV[5], 'token:user', ARGV[6])
  end
  if ARGV[7] ~= '' then
    redis.call('HSET', key, 'lifetime', ARGV[7])
  end
end
return taken
