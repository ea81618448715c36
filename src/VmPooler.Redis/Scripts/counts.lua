-- ARGV: 3 'completed' to append the names of the completed VMs after the six counts (the manager's event path).
-- Pending VMs whose clone has not finished (no clone_time yet) are "cloning"; those cloned for an on-demand request
-- (a non-empty request_id) do not count towards the pool's size. A pool has few pending VMs (bounded by task_limit).
local cloning, ondemand = 0, 0
for _, name in ipairs(redis.call('SMEMBERS', K_PENDING)) do
  local fields = redis.call('HMGET', VM_PREFIX .. name, 'clone_time', 'request_id')
  if not fields[1] then
    cloning = cloning + 1
  end
  if fields[2] and fields[2] ~= '' then
    ondemand = ondemand + 1
  end
end
local result = {
  redis.call('SCARD', K_PENDING),
  redis.call('ZCARD', K_READY),
  redis.call('SCARD', K_RUNNING),
  redis.call('SCARD', K_COMPLETED),
  cloning,
  ondemand,
}
if ARGV[3] == 'completed' and result[4] > 0 then
  for _, name in ipairs(redis.call('SMEMBERS', K_COMPLETED)) do
    result[#result + 1] = name
  end
end
return result
