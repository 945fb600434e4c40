-- KEYS: queue hash, queue zset, queue meta (its side entries go with the message),
--       in-flight index (its entries go too, with one ZREM), failed records hash and their
--       index (optional: an ack of a message that failed before leaves "ok:{id}" there).
-- ARGV: per message: id, receipt rc ("" = delete by bare id, RSMQ's deleteMessage).
-- Reply: status, then per message: code, value.
--   by id:      0, 1|0 (1 iff ZREM removed it and HDEL removed a field, as Node)
--   by receipt: 0, 1 | NO_MESSAGE, 0 | STALE, current rc  (fenced on rc)
-- Cost: one HMGET reads every receipt's rc, then one ZREM per message (one ZMSCORE plus
-- one ZREM for all measured no faster: converting the arguments dominates); the fields
-- of messages removed by receipt (whose rc field exists, so HDEL removes one) and the
-- side entries of all removed messages go with one HDEL each. Deletes by bare id HDEL
-- per message, as they need HDEL's count. Acks (by receipt) on a queue with failure
-- records read the {id}:st side entries with one more HMGET (else one EXISTS): a message
-- that a fail or nack settled before gets "ok:{id}" = the ack time in ms in the failed
-- records hash (the lifecycle state "succeeded", engine/triage.py). Nothing is written
-- for a message that never failed, nor for a delete by bare id (not a success).
local m = math.floor((#ARGV + 1) / 2) -- entries (a last odd one too, as before)
if m < 1 then
  return { OK }
end
local rcs = {}
for i = 1, m do
  rcs[i] = ARGV[2 * i - 1] .. ":rc"
end
rcs[m + 1] = "ext:cap" -- a capped queue: freed slots are announced (cap_freed)
local f = redis.call("HMGET", KEYS[1], unpack(rcs))
local out = { OK }
local del, side, gone = {}, {}, {} -- hash fields, side entries, in-flight index members
local acked = {} -- ids removed by receipt (their {id}:st tells whether they failed before)
for i = 1, m do
  local id, want, rc = ARGV[2 * i - 1], ARGV[2 * i], f[i]
  local code, value = OK, 0
  local remove = want == ""
  if not remove then
    if tonumber(rc or "0") == tonumber(want) then
      remove = true
    elseif redis.call("ZSCORE", KEYS[2], id) then
      code, value = STALE, tonumber(rc or "0")
    else
      code = NO_MESSAGE
    end
  end
  if remove then
    local z = redis.call("ZREM", KEYS[2], id)
    if z == 0 and want ~= "" then
      code = NO_MESSAGE -- not in the queue (or removed earlier in this call): nothing to do
    else
      if want == "" or not rc then
        local h = redis.call("HDEL", KEYS[1], id, rcs[i], id .. ":fr")
        value = (z == 1 and h > 0) and 1 or 0
      else
        value = 1 -- z == 1, and its rc field exists
        acked[#acked + 1] = id
        del[#del + 1] = id
        del[#del + 1] = rcs[i]
        del[#del + 1] = id .. ":fr"
      end
      side[#side + 1] = id .. ":lr"
      side[#side + 1] = id .. ":err"
      side[#side + 1] = id .. ":dl"
      side[#side + 1] = id .. ":st"
      gone[#gone + 1] = id
    end
  end
  out[2 * i] = code
  out[2 * i + 1] = value
end
if #del > 0 then
  redis.call("HDEL", KEYS[1], unpack(del))
end
if #acked > 0 and KEYS[6] and redis.call("EXISTS", KEYS[6]) == 1 then
  local st = {}
  for i, id in ipairs(acked) do
    st[i] = id .. ":st"
  end
  local settled = redis.call("HMGET", KEYS[3], unpack(st))
  local now
  for i, id in ipairs(acked) do
    if settled[i] then
      now = now or now_ms()
      redis.call("HSET", KEYS[5], "ok:" .. id, int(now))
    end
  end
end
if #side > 0 then
  redis.call("HDEL", KEYS[3], unpack(side))
  redis.call("ZREM", KEYS[4], unpack(gone))
  if f[m + 1] then
    cap_freed(f[m + 1], KEYS[2])
  end
end
return out
