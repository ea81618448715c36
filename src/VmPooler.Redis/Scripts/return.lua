-- ARGV: 3 name. running → completed; says 'returned', 'not_running' or 'unknown'.
local key = VM_PREFIX .. ARGV[3]
if not live(key) then
  return 'unknown'
end
local state = redis.call('HGET', key, '_state')
if state ~= 'running' then
  return 'not_running'
end
redis.call('SREM', K_RUNNING, ARGV[3])
redis.call('SADD', K_COMPLETED, ARGV[3])
redis.call('HSET', key, '_state', 'completed')
return 'returned'
