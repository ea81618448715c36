-- Statistics script (no prelude): one VM's clone and/or boot durations, and the pool's last boot, in one call.
-- KEYS: 1 the last-boot hash, 2.. the per-day durations hashes, one per duration.
-- ARGV: 1 the durations' field (pool:vm), 2 the pool, 3 the boot time ('' when no boot is recorded), 4.. the seconds,
-- in the order of KEYS 2...
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], ARGV[1], ARGV[i + 2])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
return 1
