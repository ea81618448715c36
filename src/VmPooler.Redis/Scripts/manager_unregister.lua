-- Removes a manager from the registry (no prelude). KEYS: 1 the manager's key, 2 the set of manager ids. ARGV: 1 manager id.
-- Returns 1 when a live registration was removed.
local removed = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return removed
