-- Pending VMs whose clone has not finished (no clone_time yet) are "cloning"; a pool has few pending VMs.
local cloning = 0
for _, name in ipairs(redis.call('SMEMBERS', K_PENDING)) do
  if redis.call('HEXISTS', VM_PREFIX .. name, 'clone_time') == 0 then
    cloning = cloning + 1
  end
end
return {
  redis.call('SCARD', K_PENDING),
  redis.call('ZCARD', K_READY),
  redis.call('SCARD', K_RUNNING),
  redis.call('SCARD', K_COMPLETED),
  cloning,
}
