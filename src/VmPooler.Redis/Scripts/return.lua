-- ARGV: 3 name, 4 '1' to leave a VM that carries a token as it is ('owned'; the caller checks the token first).
-- running → completed; says 'returned', 'not_running', 'owned' or 'unknown'.
local key = VM_PREFIX .. ARGV[3]
if not live(key) then
  return 'unknown'
end
if ARGV[4] == '1' and redis.call('HEXISTS', key, 'token:token') == 1 then
  return 'owned'
end
local state = redis.call('HGET', key, '_state')
if state ~= 'running' then
  return 'not_running'
end
redis.call('SREM', K_RUNNING, ARGV[3])
redis.call('SADD', K_COMPLETED, ARGV[3])
redis.call('HSET', key, '_state', 'completed')
return 'returned'
