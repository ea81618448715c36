-- ARGV: 3 name, 4 from, 5 milliseconds to keep the metadata (0: delete it now), 6.. field/value pairs.
local key = VM_PREFIX .. ARGV[3]
if redis.call('HGET', key, '_state') ~= ARGV[4] then
  return 0
end
leave(ARGV[4], ARGV[3])
local keep = tonumber(ARGV[5])
if keep > 0 then
  redis.call('HDEL', key, '_state')
  set_pairs(key, 6)
  redis.call('HSET', key, '_expires', NOW + keep)
  redis.call('PEXPIRE', key, keep)
else
  redis.call('DEL', key)
end
return 1
