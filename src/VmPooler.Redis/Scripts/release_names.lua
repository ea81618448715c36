-- Index script (no prelude): the index bookkeeping after forget.lua, in one call.
-- KEYS: 1 name → pool index (hash), 2 expiring names (sorted set, score = expiry ms).
-- ARGV: 1 a name whose metadata is kept ('' for none), 2 when it expires (ms), 3.. names released (their metadata is gone).
if ARGV[1] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
if #ARGV > 2 then
  local released = {unpack(ARGV, 3)}
  redis.call('HDEL', KEYS[1], unpack(released))
  redis.call('ZREM', KEYS[2], unpack(released))
end
return 1
