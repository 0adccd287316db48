-- Shared by every bench script: the headers each request carries and the JSON line that
-- bench/wrk.py parses. TLS is terminated "by a proxy": gunicorn trusts X-Forwarded-Proto from
-- 127.0.0.1 (FORWARDED_ALLOW_IPS), so production settings serve it with no TLS handshake in the
-- timing (docs/performance.md).
local M = {}

local threads = {}

function M.headers()
  local h = { ["X-Forwarded-Proto"] = "https", ["User-Agent"] = "parsalink-bench/wrk" }
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then
    h["Authorization"] = auth
  end
  return h
end

function M.setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- With BENCH_COUNT_STATUS=1 every response's status is counted (costs the client a little, so
-- only the low-rate scenarios use it: login's 429s and refresh's 401s must show up), and every
-- refusal by "<status> <code>", plus " no-retry-after" when the header is missing.
function M.install_status_counter()
  if os.getenv("BENCH_COUNT_STATUS") == "1" then
    statuses = {}
    refusals = {}
    response = function(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
      if status >= 400 then
        local code = string.match(body or "", '"code"%s*:%s*"([^"]+)"') or "?"
        local key = status .. " " .. code
        if not (headers["Retry-After"] or headers["retry-after"]) then
          key = key .. " no-retry-after"
        end
        refusals[key] = (refusals[key] or 0) + 1
      end
    end
  end
end

function M.done(summary, latency, requests)
  local e = summary.errors
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for code, n in pairs(s) do
        counts[code] = (counts[code] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', code, n))
  end
  local refused = {}
  for _, thread in ipairs(threads) do
    local r = thread:get("refusals")
    if r then
      for key, n in pairs(r) do
        refused[key] = (refused[key] or 0) + n
      end
    end
  end
  local refused_parts = {}
  for key, n in pairs(refused) do
    table.insert(refused_parts, string.format('"%s":%d', key, n))
  end
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,'
      .. '"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"mean_us":%.1f,"statuses":{%s},"refusals":{%s}}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, table.concat(parts, ","), table.concat(refused_parts, ",")))
end

return M
