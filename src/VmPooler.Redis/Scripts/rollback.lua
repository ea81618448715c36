-- ARGV: 3 checkout time of the failed request, then groups of (name, score, and the previous values of checkout,
-- token:token, token:user, lifetime: '0' when absent, '1' .. value otherwise), as take.lua returned them.
-- Puts VMs a failed all-or-nothing checkout took back as they were, in their place in the ready order.
local restored = 0
for i = 4, #ARGV, 6 do
  local name = ARGV[i]
  local key = VM_PREFIX .. name
  if redis.call('HGET', key, '_state') == 'running' and redis.call('HGET', key, 'checkout') == ARGV[3] then
    redis.call('SREM', K_RUNNING, name)
    redis.call('ZADD', K_READY, ARGV[i + 1], name)
    redis.call('HSET', key, '_state', 'ready')
    local fields = {'checkout', 'token:token', 'token:user', 'lifetime'}
    for j = 1, 4 do
      local prev = ARGV[i + 1 + j]
      if string.sub(prev, 1, 1) == '1' then
        redis.call('HSET', key, fields[j], string.sub(prev, 2))
      else
        redis.call('HDEL', key, fields[j])
      end
    end
    restored = restored + 1
  end
end
return restored
