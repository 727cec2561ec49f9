-- The phone path as wrk's script (benchmarks/phone_peak.py runs it): distinct people, each
-- opening their own link and submitting with one tap, as the link's page does.
--
-- wrk -t N -c N (one connection per thread, so that each person's requests follow each
-- other) -s phone_peak.lua URL -- ACT PATHS OUT N
--   ACT    cold (the page with the state in it, the submit), warm (the state, the submit) or
--          healthz (GET /healthz once per "person")
--   PATHS  a file of personal-link paths, one per line; thread k takes lines k, k+N, ...
--   OUT    a file prefix: each thread writes OUT-k with one line per person,
--          "<status> <milliseconds>" (the first answer that was not 2xx, else the last)
-- Written in C and LuaJIT, wrk leaves the two cores to the server: the Python client cost
-- about as much CPU per declaration as the server did.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clock, timespec *now);
]]
local now_ts = ffi.new("timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local SHELL_MARK = 'id="link-shell"'
local STEPS = { cold = { "page", "submit" }, warm = { "state", "submit" }, healthz = { "healthz" } }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  act, out = args[1], args[3]
  steps = STEPS[act]
  paths = {}
  local n, threads = 0, tonumber(args[4])
  for line in io.lines(args[2]) do
    if n % threads == id - 1 then paths[#paths + 1] = line end
    n = n + 1
  end
  person, step, results = 1, 1, {}
end

local urandom = io.open("/dev/urandom", "rb")
local function uuid4()
  local bytes = { urandom:read(16):byte(1, 16) }
  bytes[7] = bit.bor(bit.band(bytes[7], 0x0f), 0x40) -- version 4
  bytes[9] = bit.bor(bit.band(bytes[9], 0x3f), 0x80) -- the RFC's variant
  local s = string.format(string.rep("%02x", 16), unpack(bytes))
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20)
    .. "-" .. s:sub(21, 32)
end

local JSON = { ["Accept"] = "application/json", ["X-Forwarded-Proto"] = "https" }
local POST = { ["Accept"] = "application/json", ["Content-Type"] = "application/json",
  ["X-Forwarded-Proto"] = "https" }
local PAGE = { ["X-Forwarded-Proto"] = "https" }

function request()
  local path, kind = paths[person], steps[step]
  if step == 1 then started, failed = now_ms(), nil end
  if kind == "page" then return wrk.format("GET", path, PAGE) end
  if kind == "state" then return wrk.format("GET", path .. "state", JSON) end
  if kind == "submit" then return wrk.format("POST", path .. "declare", POST, tap) end
  return wrk.format("GET", "/healthz", PAGE)
end

-- The one-tap submit: the last answers the state shows (as JSON, or in the page's JSON
-- script: the same text), under a new UUID (the page's own).
local function one_tap(state)
  local last = state:match('"last": (%b{})')
  if not last then return nil end
  local function value(name) return last:match('"' .. name .. '": ([^,}]+)') end
  return '{"uuid": "' .. uuid4() .. '", "temperature": ' .. value("temperature")
    .. ', "symptoms": ' .. last:match('"symptoms": (%b[])') .. ', "division": ' .. value("division")
    .. ', "whereabouts": ' .. value("whereabouts") .. ', "contact": ' .. value("contact")
    .. ', "risk_area_stay": ' .. value("risk_area_stay") .. ', "test_result": '
    .. value("test_result") .. "}"
end

function response(status, headers, body)
  local kind = steps[step]
  local ok = status >= 200 and status < 300
  if kind == "page" and ok and not body:find(SHELL_MARK, 1, true) then status, ok = 598, false end
  if (kind == "page" or kind == "state") and ok then
    tap = one_tap(body)
    if not tap then status, ok = 597, false end
  end
  if not ok then failed = failed or status end
  if ok and step < #steps then
    step = step + 1
    return
  end
  results[#results + 1] = string.format("%d %.3f", failed or status, now_ms() - started)
  step, person = 1, person + 1
  if person > #paths then
    local name = out .. "-" .. id
    local file = io.open(name .. ".part", "w")
    file:write(table.concat(results, "\n"), "\n")
    file:close()
    os.rename(name .. ".part", name) -- whole, when the benchmark sees it
    wrk.thread:stop()
  end
end
