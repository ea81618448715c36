-- ARGV: 3 name, 4 pool, 5.. field/value pairs. Tracks an unknown (or forgotten) VM as completed; 0 when it is tracked.
local key = VM_PREFIX .. ARGV[3]
if live(key) and redis.call('HEXISTS', key, '_state') == 1 then
  return 0
end
redis.call('PERSIST', key)
redis.call('HDEL', key, '_expires')
redis.call('HSET', key, '_state', 'completed', '_pool', ARGV[4])
set_pairs(key, 5)
redis.call('SADD', K_COMPLETED, ARGV[3])
redis.call('ZREM', K_FORGOTTEN, ARGV[3])
return 1
