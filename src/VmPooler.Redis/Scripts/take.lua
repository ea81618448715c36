-- ARGV: 3 count, 4 checkout time, 5 token ('' none), 6 user, 7 lifetime ('' none).
-- Hands out the 'count' oldest ready VMs of the pool, or none when it has fewer. Returns, per VM: name, score, and
-- the previous values of checkout, token:token, token:user, lifetime ('0' absent, '1' .. value) for rollback.lua.
local n = tonumber(ARGV[3])
if redis.call('ZCARD', K_READY) < n then
  return {}
end
local ranged = redis.call('ZRANGE', K_READY, 0, n - 1, 'WITHSCORES')
local taken = {}
for i = 1, #ranged, 2 do
  local name = ranged[i]
  local key = VM_PREFIX .. name
  taken[#taken + 1] = name
  taken[#taken + 1] = ranged[i + 1]
  local previous = redis.call('HMGET', key, 'checkout', 'token:token', 'token:user', 'lifetime')
  for j = 1, 4 do
    local v = previous[j]
    if v then taken[#taken + 1] = '1' .. v else taken[#taken + 1] = '0' end
  end
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
