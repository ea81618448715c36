-- Reads one pool's history at one resolution: the buckets in [ARGV[1], ARGV[2]], oldest first.
-- KEYS[1] hash, KEYS[2] index. Returns a flat array: bucket, ready, pending, running, samples, checkouts (false when unset).
local out = {}
for _, b in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[2])) do
  local v = redis.call('HMGET', KEYS[1], b .. ':r', b .. ':p', b .. ':u', b .. ':n', b .. ':c')
  out[#out + 1] = b
  for i = 1, 5 do
    out[#out + 1] = v[i]
  end
end
return out
