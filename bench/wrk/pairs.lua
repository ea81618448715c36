-- wrk script: each connection checks a VM out of a pool and returns it, again and again (the load generator's
-- checkout+return pair, from a client that costs ~10x less CPU than .NET's HttpClient). Run one connection per thread
-- (-t N -c N): a thread's requests are then one sequential client, so the host it returns is the one it checked out.
-- Pools: the POOLS environment variable (comma-separated); threads take them in turn.
-- Counted per thread and summed in done(): pairs, empty (503) answers, other errors.

local threads = {}
local pools = {}
for p in string.gmatch(os.getenv("POOLS") or "debian", "[^,]+") do pools[#pools + 1] = p end
local next_pool = 0

function setup(thread)
  next_pool = next_pool % #pools + 1
  thread:set("pool", pools[next_pool])
  threads[#threads + 1] = thread
end

function init(args)
  host = nil
  pairs_done, empty, errors = 0, 0, 0
end

function request()
  if host then
    return wrk.format("DELETE", "/api/v3/vm/" .. host)
  end
  return wrk.format("POST", "/api/v3/vm/" .. pool)
end

function response(status, headers, body)
  if host then
    if status == 200 then pairs_done = pairs_done + 1 else errors = errors + 1 end
    host = nil
  elseif status == 200 then
    host = string.match(body, '"hostname"%s*:%s*"([^"]+)"')
    if not host then errors = errors + 1 end
  elseif status == 503 then
    empty = empty + 1
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local p, e, x = 0, 0, 0
  for _, t in ipairs(threads) do
    p = p + t:get("pairs_done"); e = e + t:get("empty"); x = x + t:get("errors")
  end
  io.write(string.format("wrk-pairs: %d pairs, %d empty, %d errors\n", p, e, x))
end
