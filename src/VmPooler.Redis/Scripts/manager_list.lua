-- The live managers' registrations (no prelude). KEYS: 1 the set of manager ids. ARGV: 1 the prefix of a manager's
-- key (same {managers} tag, so one slot). Ids whose key has expired are pruned from the set here.
local ids = redis.call('SMEMBERS', KEYS[1])
local live = {}
for _, id in ipairs(ids) do
  local registration = redis.call('GET', ARGV[1] .. id)
  if registration then
    table.insert(live, registration)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return live
