-- Lease script (no prelude). KEYS: 1 lease. ARGV: 1 holder, 2 time to live (ms), 3 'acquire' or 'release'.
local current = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if current == ARGV[1] then
    redis.call('DEL', KEYS[1])
  end
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
