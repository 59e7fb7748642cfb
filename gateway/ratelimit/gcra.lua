-- GCRA over several budgets in one atomic step (see gateway/ratelimit/gcra.py for the formulas).
--
-- KEYS[i]      the budget's key, value = its TAT in integer microseconds (server clock)
-- ARGV[1]      now in microseconds, or "" to read the server clock (TIME): replicas with
--              skewed clocks then agree
-- ARGV[2i]     T, the emission interval of KEYS[i], in whole microseconds
-- ARGV[2i+1]   burst of KEYS[i]
--
-- The call is admitted only if every budget admits it; then every TAT advances by T and gets
-- a PX expiry at its reset time (a full bucket needs no state).  If any budget refuses,
-- nothing is written.
-- Returns {admitted (1|0), now, tat_1, ..., tat_n} with tat_i = max(stored TAT, now) read
-- before any charge; the caller derives remaining / retry_after / reset_after from these.
-- Needs Redis >= 5 or Valkey (script effects replication, so TIME before a write is allowed).

local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local n = #KEYS
local tats = {}
local admitted = 1
for i = 1, n do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '') or now
  if tat < now then
    tat = now
  end
  tats[i] = tat
  if tat - now > interval * (burst - 1) then
    admitted = 0
  end
end

if admitted == 1 then
  for i = 1, n do
    local new_tat = tats[i] + tonumber(ARGV[2 * i])
    local ttl_ms = math.ceil((new_tat - now) / 1000)
    -- %.0f: a plain tostring would print large numbers in exponent form and lose digits.
    redis.call('SET', KEYS[i], string.format('%.0f', new_tat), 'PX', ttl_ms)
  end
end

local reply = { admitted, now }
for i = 1, n do
  reply[i + 2] = tats[i]
end
return reply
