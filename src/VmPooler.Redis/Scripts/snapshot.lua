-- Every VM of the pool with its metadata, read atomically: {pending, ready (oldest first), running, completed},
-- each a flat list of name, {field, value, ...}.
local function dump(names)
  local out = {}
  for _, name in ipairs(names) do
    out[#out + 1] = name
    out[#out + 1] = redis.call('HGETALL', VM_PREFIX .. name)
  end
  return out
end
return {
  dump(redis.call('SMEMBERS', K_PENDING)),
  dump(redis.call('ZRANGE', K_READY, 0, -1)),
  dump(redis.call('SMEMBERS', K_RUNNING)),
  dump(redis.call('SMEMBERS', K_COMPLETED)),
}
