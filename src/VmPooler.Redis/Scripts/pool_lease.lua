-- Pools' leases (no prelude; each key carries its pool's hash tag, and on a Redis Cluster one call holds the keys of
-- one hash slot only). Expiry is Redis' own (PX), so one clock, the server's, decides for every manager whatever their
-- hosts' clocks say.
-- KEYS: the pools' lease keys. ARGV: 1 manager id, 2 'acquire' or 'release', 3 time to live (ms; acquire only).
-- Returns, per key: 1 when the manager holds the lease afterwards (acquire: taken or renewed) or gave it up (release),
-- else 0.
local results = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  local done = 0
  if ARGV[2] == 'release' then
    if current == ARGV[1] then
      redis.call('DEL', key)
      done = 1
    end
  elseif not current or current == ARGV[1] then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[3])
    done = 1
  end
  results[i] = done
end
return results
