-- One pool's lease (no prelude; the key carries the pool's hash tag). Expiry is Redis' own (PX), so one clock, the
-- server's, decides for every manager whatever their hosts' clocks say.
-- KEYS: 1 the pool's lease key. ARGV: 1 manager id, 2 'acquire' or 'release', 3 time to live (ms; acquire only).
-- Returns 1 when the manager holds the lease afterwards (acquire: taken or renewed) or gave it up (release), else 0.
local current = redis.call('GET', KEYS[1])
if ARGV[2] == 'release' then
  if current == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
if not current or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0
