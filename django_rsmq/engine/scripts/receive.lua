-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set, failed records hash,
--       their index, in-flight index (keys.py: id -> hidden-until ms, as in the zset).
-- ARGV: vt ms ("" = queue default), count, qname, its realtime channel, realtime "1" | "".
-- Hides up to `count` visible messages for vt, exactly like RSMQ's receiveMessage per message.
-- A paused queue (ext:paused, pause.lua) delivers nothing; a rate-limited one (ext:rate)
-- at most the tokens of its bucket (rate_tokens in _lib.lua; ext:rl keeps the bucket); a
-- capped one (ext:cap, in_flight_cap) at most the slots its in-flight index leaves free.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
-- Reliability (docs/reliability.md): a visible message past the queue's retention, or
-- already received max_receives times (vt expiries and nacks alike), is dropped or moved
-- to the DLQ here instead of being delivered (withheld() in _lib.lua), and the next
-- visible one is taken. So is poison data (an invalid id, a malformed rc, no body:
-- poison() and quarantine() in _lib.lua), moved to the DLQ or a failure record. On queues
-- with max_receives the last receive time is kept as side data ({id}:lr). Each call also
-- runs one bounded step of the side-data sweep.
-- Cost: the messages taken in one pass are read with one HMGET (which also reads
-- totalrecv) and hidden with one ZADD; their rc and fr are written with one HSET. A
-- redelivery's rc is the stored one + 1, what RSMQ's HINCRBY gives (RSMQ clients only
-- ever HINCRBY rc and totalrecv, so both are integer strings; anything else is poison).
-- Without retention or max_receives + DLQ (nothing can be withheld) and without poison
-- there is one pass and that HSET also writes totalrecv; otherwise totalrecv takes one
-- HINCRBY at the end. The messages delivered get the same score in the in-flight index
-- (one ZADD); entries of it whose time has passed are pruned (prune_in_flight in _lib.lua).
local vt, gc, max_receives, cfg, paused, rate, rl, capf = get_receive_queue(KEYS[1])
if not vt then
  return { NO_QUEUE }
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nows = int(now)
if paused then
  return { OK, nows } -- a paused queue delivers nothing (pause.lua)
end
local want = tonumber(ARGV[2])
local tokens = rate and rate_tokens(rate, rl, now)
if tokens then -- a rate limit: start no more than the bucket holds
  if tokens < 1 then
    return { EMPTY, nows }
  end
  want = math.min(want, math.floor(tokens))
end
gc_side(KEYS[1], KEYS[2], KEYS[3], 20, gc)
prune_in_flight(KEYS[7], nows)
local cap = capf and in_flight_cap(capf)
if cap then -- a concurrency cap: hand out no more than the free slots
  local free = cap - slots_held(KEYS[7], now)
  if free < 1 then
    return { EMPTY, nows }
  end
  want = math.min(want, free)
end
if ARGV[1] ~= "" then
  vt = tonumber(ARGV[1])
end
local hidden_until = int(now + vt)
local out = { OK, nows }
local n = 2 -- entries in `out`
local seen = {} -- ids delivered by this call (only a vt of 0 leaves them visible)
local track = vt == 0

-- Deliver `take` (ids, visible, not withheld) but the poison among them (quarantined):
-- hide them, count the receive, reply. With `total`, also set totalrecv to its stored
-- value + the number delivered in the same HSET. Returns that number.
local function deliver(take, total)
  local k = #take
  local fields = {}
  for i = 1, k do
    local id = take[i]
    fields[3 * i - 2] = id
    fields[3 * i - 1] = id .. ":rc"
    fields[3 * i] = id .. ":fr"
  end
  if total then
    fields[3 * k + 1] = "totalrecv"
  end
  local f = redis.call("HMGET", KEYS[1], unpack(fields))
  local chars = id_chars(take) -- else each id is looked at alone
  local scored, set, s, lr, kept = {}, {}, 0, {}, 0 -- set: rc and fr, as HSET pairs
  for i = 1, k do
    local id, body, stored = take[i], f[3 * i - 2], f[3 * i - 1]
    if #id ~= 32 or not (chars or valid_id(id)) or not body
      or (stored and not string.find(stored, "^%d+$")) then
      quarantine(KEYS, ARGV[3], ARGV[4], ARGV[5], id, poison(id, body, stored), stored, now, t)
    else
      kept = kept + 1
      if track then
        seen[id] = true
      end
      scored[2 * kept - 1] = hidden_until
      scored[2 * kept] = id
      local rc, fr = tonumber(stored or "0") + 1, f[3 * i]
      set[s + 1] = fields[3 * i - 1]
      set[s + 2] = int(rc)
      s = s + 2
      if rc == 1 then -- like RSMQ: the first receive (re)sets fr
        fr = nows
        set[s + 1] = fields[3 * i]
        set[s + 2] = nows
        s = s + 2
      end
      out[n + 1] = id
      out[n + 2] = body
      out[n + 3] = rc
      out[n + 4] = fr or false
      n = n + 4
      if max_receives then
        lr[2 * kept - 1] = id .. ":lr"
        lr[2 * kept] = nows
      end
    end
  end
  if kept == 0 then
    return 0
  end
  if total then
    set[s + 1] = "totalrecv"
    set[s + 2] = int((tonumber(f[3 * k + 1]) or 0) + kept)
  end
  redis.call("ZADD", KEYS[2], unpack(scored))
  redis.call("ZADD", KEYS[7], unpack(scored))
  redis.call("HSET", KEYS[1], unpack(set))
  if max_receives then
    redis.call("HSET", KEYS[3], unpack(lr))
  end
  return kept
end

-- Without cfg nothing can be withheld: the first pass takes what is visible, and another
-- pass is only needed when poison was quarantined; with cfg, when messages were withheld.
local src = cfg and source(KEYS, ARGV[3], cfg, ARGV[4], ARGV[5])
local got, withheld_n, counted = 0, 0, 0
while got < want and withheld_n < 10000 do
  local ids = visible_ids(KEYS[2], nows, want)
  local before = withheld_n
  local take = ids
  if cfg or got > 0 or withheld_n > 0 then
    take = {}
    for _, id in ipairs(ids) do
      if got + #take >= want or seen[id] then
        -- full, or delivered earlier in this call
        seen[id] = true
      elseif cfg and withheld(src, cfg, id, now) then
        withheld_n = withheld_n + 1
      else
        take[#take + 1] = id
      end
    end
  end
  if #take > 0 then
    local first = not cfg and got == 0 and withheld_n == 0
    local kept = deliver(take, first)
    if first then
      counted = kept
    end
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
if got > counted then
  redis.call("HINCRBY", KEYS[1], "totalrecv", got - counted)
end
if tokens then
  redis.call("HSET", KEYS[1], "ext:rl", string.format("%.6f:%d", tokens - got, now))
end
return out
