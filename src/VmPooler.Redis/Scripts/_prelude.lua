-- Shared by every per-pool script. All keys of one pool carry the pool's hash tag, so each script touches one slot.
-- KEYS: 1 pending (set), 2 ready (sorted set, scored by a per-pool sequence: oldest first), 3 running (set),
--       4 completed (set), 5 the pool's sequence (counter: orders ready VMs and forgotten records),
--       6 forgotten (sorted set of the names whose record is kept after they were forgotten, scored by the sequence:
--       oldest first; at most max_destroyed_records_per_pool of them)
-- ARGV: 1 the prefix of this pool's VM hashes ("<prefix>:{<pool>}:vm:"), 2 now (ms, from the caller's clock);
--       each script's own arguments start at ARGV[3].
-- A VM hash keeps its state in '_state' (absent once the VM is forgotten) and, once forgotten, the time its
-- metadata expires in '_expires' (the caller's clock decides; Redis' own expiry only cleans up).
local K_PENDING, K_READY, K_RUNNING, K_COMPLETED, K_SEQ, K_FORGOTTEN = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local VM_PREFIX, NOW = ARGV[1], tonumber(ARGV[2])

local function state_set(state)
  if state == 'pending' then return K_PENDING end
  if state == 'running' then return K_RUNNING end
  if state == 'completed' then return K_COMPLETED end
  return nil
end

local function leave(state, name)
  if state == 'ready' then
    redis.call('ZREM', K_READY, name)
  else
    redis.call('SREM', state_set(state), name)
  end
end

local function enter(state, name)
  if state == 'ready' then
    redis.call('ZADD', K_READY, redis.call('INCR', K_SEQ), name)
  else
    redis.call('SADD', state_set(state), name)
  end
end

local function set_pairs(key, from)
  if from < #ARGV then
    redis.call('HSET', key, unpack(ARGV, from))
  end
end

-- True when the VM's hash exists and its retained metadata has not expired (expired metadata is deleted).
local function live(key)
  if redis.call('EXISTS', key) == 0 then
    return false
  end
  local expires = redis.call('HGET', key, '_expires')
  if expires and tonumber(expires) <= NOW then
    redis.call('DEL', key)
    return false
  end
  return true
end
