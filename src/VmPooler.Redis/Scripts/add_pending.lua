-- ARGV: 3 name, 4 pool, 5.. field/value pairs. Registers a new VM as pending; 0 when the name is known.
local key = VM_PREFIX .. ARGV[3]
if live(key) then
  return 0
end
redis.call('HSET', key, '_state', 'pending', '_pool', ARGV[4])
set_pairs(key, 5)
redis.call('SADD', K_PENDING, ARGV[3])
return 1
