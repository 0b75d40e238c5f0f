-- soap.lua: the wrk script of bench/api/run.sh. Posts SOAP 1.1 requests over
-- keep-alive connections with HTTP Basic authentication, or (compose) the
-- API's compose requests straight to an image server.
--
-- Environment:
--   KS_BENCH_OP       echo, getavatar, changeoutfit, createavatar or compose
--   KS_BENCH_DRAW     getavatar: uniform or zipf (exponent KS_BENCH_ZIPF_S,
--                     default 1.0), which member each request asks for
--   KS_BENCH_AUTH     base64 of user:password
--   KS_BENCH_MEMBERS  a file of "USER_ID ITEM_A ITEM_B" lines: members that
--                     own A and B of one exclusive category and wear A
--   KS_BENCH_SLICE    changeoutfit: "FIRST COUNT", the members (1-based lines
--                     of the file) this run may use; each thread takes its
--                     share and asks each of its members once to wear B, so
--                     every call changes the outfit and composes a new
--                     version (run.sh gives every run a slice of its own and
--                     checks the versions afterwards)
--   KS_BENCH_PREFIX   createavatar, compose: every request is a member not
--                     seen before, user id PREFIX<thread>-<n> (n from 1)
--   KS_BENCH_COMPOSE  compose: a file of the compose body's lines after
--                     user_id and version (canvas, thumb, layers), as the API
--                     writes them (POST /internal/compose, image-server/
--                     PROTOCOL.md)
--   KS_BENCH_VERSION  compose: the version line of every request
--   KS_BENCH_SECRET   compose: the image server's secret (X-Kisekae-Secret)
--
-- GetAvatar bodies are built once in init() and the draws precomputed, so
-- request() costs wrk little, as it does for echo. Uniform: math.random over
-- all members; Zipf: member of rank k drawn with probability proportional
-- to 1/k^s (inverse of the cumulative distribution, by bisection), ranks
-- spread over the members by a fixed permutation. done() prints one line for
-- run.sh:
--   ks-bench requests=N duration_us=N status_errors=N socket_errors=N

local op = os.getenv("KS_BENCH_OP")
local draw = os.getenv("KS_BENCH_DRAW") or "uniform"
local zipf_s = tonumber(os.getenv("KS_BENCH_ZIPF_S") or "1.0")
local auth = os.getenv("KS_BENCH_AUTH")
local members_file = os.getenv("KS_BENCH_MEMBERS")
local slice = os.getenv("KS_BENCH_SLICE") or "1 0"
local prefix = os.getenv("KS_BENCH_PREFIX") or "bench-"
local threads = {}
local DRAWS = 1048576         -- precomputed draws per thread (then they repeat)

local envelope = '<?xml version="1.0" encoding="UTF-8"?>' ..
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"' ..
  ' xmlns:ks="urn:kisekae:v1" xmlns:e="urn:kisekae:bench"><soap:Body>%s</soap:Body>' ..
  '</soap:Envelope>'

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

local function members()
  local list = {}
  for line in io.lines(members_file) do
    local user, a, b = line:match("^(%S+)%s+(%d+)%s+(%d+)")
    if user then
      table.insert(list, {user = user, a = a, b = b})
    end
  end
  return list
end

-- Draws of member indices 1..n: uniform, or Zipf with exponent s.
local function draws(n, how, seed)
  math.randomseed(seed)
  local out = {}
  if how == "zipf" then
    local cdf, total = {}, 0
    for k = 1, n do
      total = total + 1 / (k ^ zipf_s)
      cdf[k] = total
    end
    for i = 1, DRAWS do
      local u, lo, hi = math.random() * total, 1, n
      while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if cdf[mid] < u then lo = mid + 1 else hi = mid end
      end
      -- rank lo -> a member: a fixed permutation (n and 7919 coprime unless n
      -- is a multiple of it) so popular members are spread over the ids
      out[i] = ((lo - 1) * 7919) % n + 1
    end
  else
    for i = 1, DRAWS do
      out[i] = math.random(n)
    end
  end
  return out
end

function init(args)
  local headers = {
    ["Content-Type"] = "text/xml; charset=utf-8",
    ["SOAPAction"] = '""',
    ["Authorization"] = "Basic " .. auth,
  }
  local index = thread_index or 1
  requests, picks, counter, fresh = {}, nil, 0, nil
  if op == "createavatar" or op == "compose" then
    -- built in request(): each asks for a member of its own
    fresh = prefix .. index .. "-"
    fresh_headers = headers
    if op == "compose" then
      local f = assert(io.open(os.getenv("KS_BENCH_COMPOSE"), "rb"))
      compose_tail = f:read("*a")
      f:close()
      compose_version = os.getenv("KS_BENCH_VERSION")
      fresh_headers = {
        ["Content-Type"] = "text/plain",
        ["X-Kisekae-Secret"] = os.getenv("KS_BENCH_SECRET"),
      }
    end
  elseif op == "echo" then
    table.insert(requests, wrk.format("POST", nil, headers,
      string.format(envelope, "<e:Echo><e:text>bench-1</e:text></e:Echo>")))
  elseif op == "getavatar" then
    for _, m in ipairs(members()) do
      table.insert(requests, wrk.format("POST", nil, headers, string.format(envelope,
        "<ks:GetAvatar><ks:userId>" .. m.user .. "</ks:userId></ks:GetAvatar>")))
    end
    picks = draws(#requests, draw, 1000 + index)
  else
    -- changeoutfit: this thread's share of the slice, each member once
    local list = members()
    local first, count = slice:match("^(%d+)%s+(%d+)$")
    first, count = tonumber(first), tonumber(count)
    local nthreads = tonumber(os.getenv("KS_BENCH_THREADS") or "1")
    local share = math.floor(count / nthreads)
    local from = first + (index - 1) * share
    for k = from, math.min(from + share - 1, #list) do
      local m = list[k]
      table.insert(requests, wrk.format("POST", nil, headers, string.format(envelope,
        "<ks:ChangeOutfit><ks:userId>" .. m.user .. "</ks:userId><ks:wear>" .. m.b ..
        "</ks:wear></ks:ChangeOutfit>")))
    end
    if #requests == 0 then
      error("soap.lua: no members in slice " .. slice)
    end
  end
end

function request()
  counter = counter + 1
  if fresh then
    local user = fresh .. counter
    if op == "compose" then
      return wrk.format("POST", nil, fresh_headers,
        "user_id " .. user .. "\nversion " .. compose_version .. "\n" .. compose_tail)
    end
    return wrk.format("POST", nil, fresh_headers, string.format(envelope,
      "<ks:CreateAvatar><ks:userId>" .. user .. "</ks:userId></ks:CreateAvatar>"))
  end
  if picks then
    return requests[picks[(counter - 1) % DRAWS + 1]]
  end
  -- echo: the one request; changeoutfit: each member once (a run longer
  -- than its slice repeats them, which run.sh's version check reports)
  return requests[(counter - 1) % #requests + 1]
end

function done(summary, latency, requests_done)
  local e = summary.errors
  io.write(string.format("ks-bench requests=%d duration_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
