-- Idempotency records of smc-gateway: begin / complete / release, each one atomic call.
--
-- KEYS[1]  the record's key (a hash)
-- ARGV[1]  the operation: "begin", "complete" or "release"
--
-- Record fields (all values are binary-safe strings):
--   s  state: "f" (in flight) or "d" (done)
--   f  request fingerprint
--   o  owner token (kept once done, so a re-sent complete is recognised)
--   l  lease expiry, ms of the server clock (in flight only)
--   k  "ok" or "error"                      (done only)
--   p  payload: the serialized response     (done only)
--   m  metadata as compact JSON             (done only)
--   t  created_at, seconds as a decimal     (done only)
--
-- Leases are read against the server's TIME so replicas with skewed clocks agree.  Each
-- operation is safe to send twice (a client retrying after a lost reply): the owner token is
-- made by the caller, so a repeated begin finds its own record and a repeated complete its
-- own answer.

local key = KEYS[1]
local op = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n)
  return string.format('%d', n)
end

if op == 'begin' then
  -- ARGV: op, fingerprint, owner, lease_ms, keep_ms
  -- Reply: {0} started | {1, kind, payload, metadata, created_at} replay | {2} mismatch
  --        | {3, remaining_lease_ms} in flight
  local fingerprint, owner = ARGV[2], ARGV[3]
  local lease_ms, keep_ms = tonumber(ARGV[4]), ARGV[5]
  local rec = redis.call('HMGET', key, 's', 'f', 'l', 'o', 'k', 'p', 'm', 't')
  if rec[1] then
    if rec[2] ~= fingerprint then
      return {2}
    end
    if rec[1] == 'd' then
      return {1, rec[5], rec[6], rec[7], rec[8]}
    end
    if rec[4] == owner then
      return {0}  -- this very begin, sent again
    end
    local now = now_ms()
    local lease_end = tonumber(rec[3])
    if lease_end > now then
      return {3, lease_end - now}
    end
    -- The owner's lease ran out (it crashed or hangs): the caller takes the record over.
    redis.call('HSET', key, 'o', owner, 'l', int(now + lease_ms))
    redis.call('PEXPIRE', key, keep_ms)
    return {0}
  end
  redis.call('HSET', key, 's', 'f', 'f', fingerprint, 'o', owner,
             'l', int(now_ms() + lease_ms))
  redis.call('PEXPIRE', key, keep_ms)
  return {0}
elseif op == 'complete' then
  -- ARGV: op, owner, kind, payload, metadata, created_at, ttl_ms.
  -- Reply: 1 stored (now or by this owner before), 0 not the owner.
  local rec = redis.call('HMGET', key, 's', 'o')
  if rec[2] ~= ARGV[2] then
    return 0
  end
  if rec[1] == 'd' then
    return 1  -- this very complete, sent again: the first answer stays
  end
  redis.call('HDEL', key, 'l')
  redis.call('HSET', key, 's', 'd', 'k', ARGV[3], 'p', ARGV[4], 'm', ARGV[5], 't', ARGV[6])
  redis.call('PEXPIRE', key, ARGV[7])
  return 1
elseif op == 'release' then
  -- ARGV: op, owner.  Reply: 1 deleted, 0 not an in-flight record of this owner.
  local rec = redis.call('HMGET', key, 's', 'o')
  if rec[1] ~= 'f' or rec[2] ~= ARGV[2] then
    return 0
  end
  redis.call('DEL', key)
  return 1
end
return redis.error_reply('unknown idempotency operation: ' .. tostring(op))
