-- ARGV: 3 checkout time of a take whose answer came too late, 4 its token ('' none).
-- Puts back what that take handed out (the caller was told the checkout failed): each running VM with exactly this
-- checkout time and token goes back to ready, at the front of the queue, without checkout, token and lifetime (a ready
-- VM has none). Sent on the same connection right after the take, so it runs after it even when Redis was paused.
local restored = 0
for _, name in ipairs(redis.call('SMEMBERS', K_RUNNING)) do
  local key = VM_PREFIX .. name
  local v = redis.call('HMGET', key, '_state', 'checkout', 'token:token')
  if v[1] == 'running' and v[2] == ARGV[3] and (v[3] or '') == ARGV[4] then
    local first = redis.call('ZRANGE', K_READY, 0, 0, 'WITHSCORES')
    local score = 0
    if first[2] then score = tonumber(first[2]) - 1 end
    redis.call('SREM', K_RUNNING, name)
    redis.call('ZADD', K_READY, score, name)
    redis.call('HSET', key, '_state', 'ready')
    redis.call('HDEL', key, 'checkout', 'token:token', 'token:user', 'lifetime')
    restored = restored + 1
  end
end
return restored
