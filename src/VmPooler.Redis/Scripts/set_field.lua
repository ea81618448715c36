-- ARGV: 3 field, 4 value, then the names of VMs of this pool. Sets the field on each of them that is in the pool now
-- (has a state: not forgotten, not unknown); returns how many were set.
local set = 0
for i = 5, #ARGV do
  local key = VM_PREFIX .. ARGV[i]
  if live(key) and redis.call('HEXISTS', key, '_state') == 1 then
    redis.call('HSET', key, ARGV[3], ARGV[4])
    set = set + 1
  end
end
return set
