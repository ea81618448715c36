-- Announces or renews a manager (no prelude; every key carries the {managers} tag).
-- KEYS: 1 the manager's key, 2 the set of manager ids. ARGV: 1 manager id, 2 registration (JSON), 3 time to live (ms).
-- Returns 1 when the manager was not registered (or its registration had expired), 0 for a renewal.
local first = redis.call('EXISTS', KEYS[1]) == 0
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
if first then
  return 1
end
return 0
