-- wrk script for bench/http.py. Configured through the environment:
--   BENCH_METHOD, BENCH_PATH   the request line
--   BENCH_HEADERS              extra headers, "Name: value" lines
--   BENCH_BODY                 a fixed body (login), or nothing
--   BENCH_CHAIN                "refresh": every request spends a never-used refresh token and
--                              the response's new token goes back into this thread's pool
--                              (a chain per connection, FIFO); tokens come from the file
--                              BENCH_TOKENS .. "." .. thread number, one per line.
--                              "cookie": the same, with the token in the refresh cookie
--                              (BENCH_COOKIE_NAME) and read back from Set-Cookie.
-- Every non-2xx response is an error. done() prints one line: "BENCHJSON {...}".
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local method, path = os.getenv("BENCH_METHOD") or "GET", os.getenv("BENCH_PATH") or "/"
local chain = os.getenv("BENCH_CHAIN") or ""
local cookie_name = os.getenv("BENCH_COOKIE_NAME") or ""
local cookie_extra = os.getenv("BENCH_COOKIE_EXTRA") or ""
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end

local pool = {}
local static_request
non2xx, ok2xx, starved, unparsed = 0, 0, 0, 0

function init(args)
  if chain ~= "" then
    local f = assert(io.open(os.getenv("BENCH_TOKENS") .. "." .. tid, "r"))
    for line in f:lines() do
      if #line > 0 then table.insert(pool, line) end
    end
    f:close()
  else
    static_request = wrk.format(method, path, headers, body)
  end
end

function request()
  if chain == "" then
    return static_request
  end
  local token = table.remove(pool, 1)
  if token == nil then
    -- the chains died (errors): a spent token, which the server must refuse (counted)
    starved = starved + 1
    token = "starved"
  end
  if chain == "cookie" then
    headers["Cookie"] = cookie_name .. "=" .. token .. (cookie_extra ~= "" and ("; " .. cookie_extra) or "")
    return wrk.format(method, path, headers, body or "{}")
  end
  return wrk.format(method, path, headers, '{"refresh":"' .. token .. '"}')
end

function response(status, resp_headers, resp_body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return
  end
  ok2xx = ok2xx + 1
  local token
  if chain == "refresh" then
    token = resp_body:match('"refresh"%s*:%s*"([^"]+)"')
  elseif chain == "cookie" then
    for name, value in pairs(resp_headers) do
      if name:lower() == "set-cookie" then
        token = value:match(cookie_name:gsub("%-", "%%-") .. "=([^;]+)") or token
      end
    end
  else
    return
  end
  if token then
    table.insert(pool, token)
  else
    unparsed = unparsed + 1
  end
end

function done(summary, latency, requests)
  local errs = summary.errors
  local n2, ok, st, up = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    n2 = n2 + (thread:get("non2xx") or 0)
    ok = ok + (thread:get("ok2xx") or 0)
    st = st + (thread:get("starved") or 0)
    up = up + (thread:get("unparsed") or 0)
  end
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"ok":%d,"non2xx":%d,"starved":%d,"unparsed":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, ok, n2, st, up,
    errs.connect, errs.read, errs.write, errs.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
