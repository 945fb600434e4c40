-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set, failed records hash,
--       their index, in-flight index. ARGV: count, qname, its realtime channel, realtime "1" | "".
-- Receives and deletes up to `count` visible messages, like RSMQ's popMessage; a paused
-- queue (pause.lua) delivers nothing, a rate-limited one its bucket's tokens at most, a
-- capped one (ext:cap) at most its free slots (a popped message is gone: it holds none).
-- Messages past retention or max_receives are withheld, and poison data quarantined, as
-- in receive.lua.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
-- Cost: the messages taken in one pass are read with one HMGET and removed with one ZREM
-- and one HDEL (their rc is the stored one + 1, what RSMQ's HINCRBY returns before the
-- field is deleted); their side entries with one more HDEL unless the meta hash is empty.
local _, gc, _, cfg, paused, rate, rl, capf = get_receive_queue(KEYS[1])
if not gc then
  return { NO_QUEUE }
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nows = int(now)
if paused then
  return { OK, nows } -- a paused queue delivers nothing (pause.lua)
end
local _, no_side_data = gc_side(KEYS[1], KEYS[2], KEYS[3], 20, gc)
-- cfg only when withheld() can hold anything back.
local src = cfg and source(KEYS, ARGV[2], cfg, ARGV[3], ARGV[4])
local want = tonumber(ARGV[1])
local tokens = rate and rate_tokens(rate, rl, now)
if tokens then -- a rate limit: start no more than the bucket holds (as receive.lua)
  if tokens < 1 then
    return { EMPTY, nows }
  end
  want = math.min(want, math.floor(tokens))
end
local cap = capf and KEYS[7] and in_flight_cap(capf)
if cap then -- a concurrency cap: take no more than the free slots (as receive.lua)
  local free = cap - slots_held(KEYS[7], now)
  if free < 1 then
    return { EMPTY, nows }
  end
  want = math.min(want, free)
end
local out = { OK, nows }
local n = 2 -- entries in `out`

-- Deliver and delete `take` (ids, visible, not withheld) but the poison among them
-- (quarantined). Returns how many were delivered.
local function deliver(take)
  local fields = {}
  for i, id in ipairs(take) do
    fields[3 * i - 2] = id
    fields[3 * i - 1] = id .. ":rc"
    fields[3 * i] = id .. ":fr"
  end
  local f = redis.call("HMGET", KEYS[1], unpack(fields))
  local chars = id_chars(take) -- else each id is looked at alone
  local ids, del, side, kept = {}, {}, {}, 0
  for i, id in ipairs(take) do
    local body, stored = f[3 * i - 2], f[3 * i - 1]
    if #id ~= 32 or not (chars or valid_id(id)) or not body
      or (stored and not string.find(stored, "^%d+$")) then
      quarantine(KEYS, ARGV[2], ARGV[3], ARGV[4], id, poison(id, body, stored), stored, now, t)
    else
      kept = kept + 1
      local rc = tonumber(stored or "0") + 1
      out[n + 1] = id
      out[n + 2] = body
      out[n + 3] = rc
      out[n + 4] = rc > 1 and f[3 * i] or nows
      n = n + 4
      ids[kept] = id
      del[3 * kept - 2] = id
      del[3 * kept - 1] = fields[3 * i - 1]
      del[3 * kept] = fields[3 * i]
      side[3 * kept - 2] = id .. ":lr"
      side[3 * kept - 1] = id .. ":err"
      side[3 * kept] = id .. ":dl"
    end
  end
  if kept == 0 then
    return 0
  end
  redis.call("ZREM", KEYS[2], unpack(ids))
  redis.call("HDEL", KEYS[1], unpack(del))
  if not no_side_data then
    redis.call("HDEL", KEYS[3], unpack(side))
  end
  return kept
end

-- Without cfg nothing can be withheld: another pass is only needed when poison was
-- quarantined; with cfg, when messages were withheld.
local got, withheld_n = 0, 0
while got < want and withheld_n < 10000 do
  local ids = visible_ids(KEYS[2], nows, want - got)
  local before = withheld_n
  local take = ids
  if cfg then
    take = {}
    for _, id in ipairs(ids) do
      if withheld(src, cfg, id, now) then
        withheld_n = withheld_n + 1
      else
        take[#take + 1] = id
      end
    end
  end
  if #take > 0 then
    local kept = deliver(take)
    got = got + kept
    withheld_n = withheld_n + #take - kept
  end
  if withheld_n == before then
    break
  end
end
if got == 0 then
  return { EMPTY, nows }
end
redis.call("HINCRBY", KEYS[1], "totalrecv", got)
if tokens then
  redis.call("HSET", KEYS[1], "ext:rl", string.format("%.6f:%d", tokens - got, now))
end
return out
