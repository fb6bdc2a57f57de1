-- Registration POSTs as one browser would send them after loading the form once: the
-- cookies and the CSRF form token from that page, and a distinct email on every request.
-- args: expected status, Cookie header, body with the placeholder XEMAILX, run id.
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  expected = tonumber(args[1])
  cookie = args[2]
  -- The body around the placeholder, split once: concatenation needs no pattern escaping.
  local at = string.find(args[3], "XEMAILX", 1, true)
  body_before = string.sub(args[3], 1, at - 1)
  body_after = string.sub(args[3], at + 7)
  run_id = args[4]
  bad = 0
end

function request()
  counter = counter + 1
  local email = string.format("r%s-t%d-n%d%%40bench.example.org", run_id, thread_id, counter)
  local body = body_before .. email .. body_after
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, body)
end

function response(status, headers, body)
  if status ~= expected then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. "\n") end
  end
end

function done(summary, latency, requests)
  local unexpected = 0
  for _, t in ipairs(threads) do unexpected = unexpected + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "unexpected_status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write, e.timeout, unexpected))
end
