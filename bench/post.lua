-- wrk script for bench/run: POSTs one JSON body over and over, optionally paced, and prints
-- the figures as one JSON line (prefixed BENCH_JSON) at the end.
--
-- Environment:
--   BENCH_BODY_FILE      file with the request body (required)
--   BENCH_KEY            sent as `Authorization: Bearer <key>` when set
--   BENCH_DELAY_MIN_MS,
--   BENCH_DELAY_MAX_MS   pacing: each connection waits a random whole number of ms in
--                        [min, max] after each answer before its next request (wrk measures
--                        latency from the moment a request is written, so the wait is not
--                        part of it). Unset: no pacing (saturation).

local file = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE unset"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

local delay_min = tonumber(os.getenv("BENCH_DELAY_MIN_MS") or "0")
local delay_max = tonumber(os.getenv("BENCH_DELAY_MAX_MS") or "0")

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("seed", thread_count)
end

function init(args)
  math.randomseed(os.time() * 1000 + seed)
end

if delay_max > 0 then
  function delay()
    return math.random(delay_min, delay_max)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, ' ..
    '"errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d, ' ..
    '"lat_mean_us": %.1f, "lat_p50_us": %d, "lat_p90_us": %d, "lat_p99_us": %d, ' ..
    '"lat_p999_us": %d, "lat_max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
