-- soap.lua: the wrk script of bench/api/run.sh. Posts SOAP 1.1 requests over
-- keep-alive connections with HTTP Basic authentication.
--
-- Environment: KS_BENCH_OP (echo, getavatar or changeoutfit), KS_BENCH_AUTH
-- (base64 of user:password), KS_BENCH_MEMBERS (a file of "USER_ID ITEM_ID"
-- lines, for getavatar and changeoutfit). Every request is built once in
-- init(); request() only picks the next one, so the script costs wrk little
-- and the same for every target. done() prints one line for run.sh:
--   ks-bench requests=N duration_us=N status_errors=N socket_errors=N

local op = os.getenv("KS_BENCH_OP")
local auth = os.getenv("KS_BENCH_AUTH")
local members_file = os.getenv("KS_BENCH_MEMBERS")
local threads = {}

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
    local user, item = line:match("^(%S+)%s+(%d+)")
    if user then
      table.insert(list, {user = user, item = item})
    end
  end
  return list
end

function init(args)
  local headers = {
    ["Content-Type"] = "text/xml; charset=utf-8",
    ["SOAPAction"] = '""',
    ["Authorization"] = "Basic " .. auth,
  }
  requests = {}
  if op == "echo" then
    table.insert(requests, wrk.format("POST", nil, headers,
      string.format(envelope, "<e:Echo><e:text>bench-1</e:text></e:Echo>")))
  else
    for _, m in ipairs(members()) do
      local body
      if op == "getavatar" then
        body = "<ks:GetAvatar><ks:userId>" .. m.user .. "</ks:userId></ks:GetAvatar>"
      else
        body = "<ks:ChangeOutfit><ks:userId>" .. m.user .. "</ks:userId><ks:wear>" ..
               m.item .. "</ks:wear></ks:ChangeOutfit>"
      end
      table.insert(requests, wrk.format("POST", nil, headers, string.format(envelope, body)))
    end
  end
  -- Threads start at different members so they seldom wait on the same row.
  counter = (thread_index or 1) * 7919
end

function request()
  counter = counter + 1
  return requests[counter % #requests + 1]
end

function done(summary, latency, requests_done)
  local e = summary.errors
  io.write(string.format("ks-bench requests=%d duration_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
