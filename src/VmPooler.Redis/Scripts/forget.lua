-- ARGV: 3 name, 4 from, 5 milliseconds to keep the metadata (0: delete it now), 6 the most records kept per pool,
-- 7.. field/value pairs. Returns {} when the VM was not in 'from', else {1, names whose records were dropped to stay
-- within the cap …} (the caller releases those names in the index).
local key = VM_PREFIX .. ARGV[3]
if redis.call('HGET', key, '_state') ~= ARGV[4] then
  return {}
end
leave(ARGV[4], ARGV[3])
local keep = tonumber(ARGV[5])
local dropped = {1}
if keep > 0 then
  redis.call('HDEL', key, '_state')
  set_pairs(key, 7)
  redis.call('HSET', key, '_expires', NOW + keep)
  redis.call('PEXPIRE', key, keep)
  redis.call('ZADD', K_FORGOTTEN, redis.call('INCR', K_SEQ), ARGV[3])
  local excess = redis.call('ZCARD', K_FORGOTTEN) - tonumber(ARGV[6])
  if excess > 0 then
    for _, name in ipairs(redis.call('ZRANGE', K_FORGOTTEN, 0, excess - 1)) do
      -- Only a record that is still forgotten: a name tracked again (adopted, or reused after it expired) stays. The
      -- caller releases the name in the index only for a record that had not expired yet (an expired one's name may
      -- already be released, and claimed again elsewhere).
      local old = VM_PREFIX .. name
      if redis.call('HEXISTS', old, '_state') == 0 then
        local expires = tonumber(redis.call('HGET', old, '_expires'))
        if redis.call('DEL', old) == 1 and expires and expires > NOW then
          table.insert(dropped, name)
        end
      end
    end
    redis.call('ZREMRANGEBYRANK', K_FORGOTTEN, 0, excess - 1)
  end
else
  redis.call('DEL', key)
end
return dropped
