-- Records into one pool's history at both resolutions, then trims what fell out of retention (dashboard history).
-- KEYS[1] minute hash, KEYS[2] minute index (ZSET bucket -> bucket), KEYS[3] hour hash, KEYS[4] hour index
-- ARGV[1] 'sample' or 'checkout'; ARGV[2] minute bucket, ARGV[3] hour bucket;
-- ARGV[4] oldest minute bucket kept, ARGV[5] oldest hour bucket kept; ARGV[6] minute TTL ms, ARGV[7] hour TTL ms;
-- sample: ARGV[8] ready, ARGV[9] pending, ARGV[10] running; checkout: ARGV[8] count.
-- Hash fields are '<bucket>:r|p|u|n|c': summed ready, pending, running, number of samples, checkouts.
local function trim(hash, index, oldest, ttl)
  local old = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. oldest)
  for _, b in ipairs(old) do
    redis.call('HDEL', hash, b .. ':r', b .. ':p', b .. ':u', b .. ':n', b .. ':c')
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. oldest)
  end
  -- A pool that leaves the configuration stops being written; its history then expires as a whole.
  redis.call('PEXPIRE', hash, ttl)
  redis.call('PEXPIRE', index, ttl)
end

local m, h = ARGV[2], ARGV[3]
redis.call('ZADD', KEYS[2], m, m)
redis.call('ZADD', KEYS[4], h, h)
if ARGV[1] == 'sample' then
  -- The latest sample of a minute stands for the minute; an hour averages its samples.
  redis.call('HSET', KEYS[1], m .. ':r', ARGV[8], m .. ':p', ARGV[9], m .. ':u', ARGV[10], m .. ':n', 1)
  redis.call('HINCRBY', KEYS[3], h .. ':r', ARGV[8])
  redis.call('HINCRBY', KEYS[3], h .. ':p', ARGV[9])
  redis.call('HINCRBY', KEYS[3], h .. ':u', ARGV[10])
  redis.call('HINCRBY', KEYS[3], h .. ':n', 1)
else
  redis.call('HINCRBY', KEYS[1], m .. ':c', ARGV[8])
  redis.call('HINCRBY', KEYS[3], h .. ':c', ARGV[8])
end
trim(KEYS[1], KEYS[2], ARGV[4], ARGV[6])
trim(KEYS[3], KEYS[4], ARGV[5], ARGV[7])
return 1
