-- Index script (no prelude). KEYS: 1 name → pool index (hash), 2 expiring names (sorted set, score = expiry ms).
-- ARGV: 1 name, 2 pool, 3 now (ms). Drops index entries whose metadata has expired, then claims the name.
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, 100)
for _, name in ipairs(expired) do
  redis.call('HDEL', KEYS[1], name)
  redis.call('ZREM', KEYS[2], name)
end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
