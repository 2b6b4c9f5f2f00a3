-- wrk script of bench/api.py: GET a path, or POST one gate decision per request from a file of
-- "<gate id>\t<JSON body>" lines (each thread takes every n-th line, so no gate is decided twice).
-- Prints one RESULT line of JSON at the end: requests, duration, errors, latency percentiles.
--   wrk ... -s bench/api_load.lua URL -- get /api/me/
--   wrk ... -s bench/api_load.lua URL -- decide var/bench-api/gates-1.tsv

local threads = {}
local next_index = 0

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  exhausted = 0
  counter = 1
  if mode == "get" then
    get_path = args[2]
    return
  end
  paths, bodies = {}, {}
  -- setup() ran in the main Lua state: the thread count comes as the third argument.
  local stride, i = tonumber(args[3]), 0
  for line in io.lines(args[2]) do
    if i % stride == index then
      local id, body = line:match("^(%d+)\t(.*)$")
      table.insert(paths, "/api/gates/" .. id .. "/decide/")
      table.insert(bodies, body)
    end
    i = i + 1
  end
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if mode == "get" then
    return wrk.format("GET", get_path)
  end
  if counter > #paths then
    -- Out of open gates: should not happen (bench/api.py sizes the pool); counted and reported.
    exhausted = exhausted + 1
    return wrk.format("GET", "/health/ready/")
  end
  local r = wrk.format("POST", paths[counter], nil, bodies[counter])
  counter = counter + 1
  return r
end

function done(summary, latency, requests)
  local exhausted_total = 0
  for _, thread in ipairs(threads) do
    exhausted_total = exhausted_total + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "exhausted": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, exhausted_total))
end
