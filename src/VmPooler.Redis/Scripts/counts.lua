return {
  redis.call('SCARD', K_PENDING),
  redis.call('ZCARD', K_READY),
  redis.call('SCARD', K_RUNNING),
  redis.call('SCARD', K_COMPLETED),
  redis.call('SCARD', K_CLONING),
}
