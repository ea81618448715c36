-- ARGV: 3 name, 4 pool, 5 state, 6.. field/value pairs. Registers a VM taken over from another installation directly in
-- 'state' with its metadata as it was (a ready one becomes the newest ready VM); 0 when the name is known.
local key = VM_PREFIX .. ARGV[3]
if live(key) then
  return 0
end
redis.call('HSET', key, '_state', ARGV[5], '_pool', ARGV[4])
set_pairs(key, 6)
enter(ARGV[5], ARGV[3])
return 1
