-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set.
-- ARGV: vt ms ("" = queue default), count, qname, its realtime channel, realtime "1" | "".
-- Hides up to `count` visible messages for vt, exactly like RSMQ's receiveMessage per message.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
-- Reliability (docs/reliability.md): a visible message past the queue's retention, or
-- already received max_receives times (vt expiries and nacks alike), is dropped or moved
-- to the DLQ here instead of being delivered (withheld() in _lib.lua), and the next
-- visible one is taken. On queues with max_receives the last receive time is kept as
-- side data ({id}:lr). Each call also runs one bounded step of the side-data sweep.
-- Cost: the messages taken in one pass are hidden with one ZADD and read with one HMGET
-- (which also reads totalrecv); their rc and fr are written with one HSET. A redelivery's
-- rc is the stored one + 1, what RSMQ's HINCRBY gives (RSMQ clients only ever HINCRBY rc
-- and totalrecv, so both are integer strings). Without retention or max_receives + DLQ
-- (nothing can be withheld) there is one pass and that HSET also writes totalrecv;
-- otherwise totalrecv takes one HINCRBY at the end.
local vt, gc, max_receives, cfg = get_receive_queue(KEYS[1])
if not vt then
  return { NO_QUEUE }
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nows = int(now)
gc_side(KEYS[1], KEYS[2], KEYS[3], 20, gc)
if ARGV[1] ~= "" then
  vt = tonumber(ARGV[1])
end
local hidden_until = int(now + vt)
local want = tonumber(ARGV[2])
local out = { OK, nows }
local n = 2 -- entries in `out`

-- Deliver `take` (ids, visible, not withheld): hide them, count the receive, reply.
-- With `last`, also set totalrecv to its stored value + `last` in the same HSET.
local function deliver(take, last)
  local k = #take
  local scored, fields = {}, {}
  for i = 1, k do
    local id = take[i]
    scored[2 * i - 1] = hidden_until
    scored[2 * i] = id
    fields[3 * i - 2] = id
    fields[3 * i - 1] = id .. ":rc"
    fields[3 * i] = id .. ":fr"
  end
  if last then
    fields[3 * k + 1] = "totalrecv"
  end
  redis.call("ZADD", KEYS[2], unpack(scored))
  local f = redis.call("HMGET", KEYS[1], unpack(fields))
  local set, s = {}, 0 -- rc and fr, as HSET field/value pairs
  for i = 1, k do
    local id = take[i]
    local rc, fr = tonumber(f[3 * i - 1] or "0") + 1, f[3 * i]
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
    out[n + 2] = f[3 * i - 2] or false
    out[n + 3] = rc
    out[n + 4] = fr or false
    n = n + 4
  end
  if last then
    set[s + 1] = "totalrecv"
    set[s + 2] = int((tonumber(f[3 * k + 1]) or 0) + last)
  end
  redis.call("HSET", KEYS[1], unpack(set))
  if max_receives then
    local lr = {}
    for i = 1, k do
      lr[2 * i - 1] = take[i] .. ":lr"
      lr[2 * i] = nows
    end
    redis.call("HSET", KEYS[3], unpack(lr))
  end
end

if not cfg then
  -- Nothing can be withheld: one pass takes what is visible.
  local ids = visible_ids(KEYS[2], nows, want)
  if #ids == 0 then
    return { EMPTY, nows }
  end
  deliver(ids, #ids)
  return out
end

-- Another pass is only needed when messages were withheld; `seen` skips messages this call
-- already delivered (a vt of 0 leaves them visible).
local src = source(KEYS, ARGV[3], cfg, ARGV[4], ARGV[5])
local got, withheld_n, seen = 0, 0, {}
while got < want and withheld_n < 10000 do
  local ids = visible_ids(KEYS[2], nows, want)
  local before = withheld_n
  local take = {}
  for _, id in ipairs(ids) do
    if got >= want or seen[id] then
      -- full, or delivered earlier in this call
      seen[id] = true
    elseif withheld(src, cfg, id, now) then
      withheld_n = withheld_n + 1
    else
      seen[id] = true
      got = got + 1
      take[#take + 1] = id
    end
  end
  if #take > 0 then
    deliver(take)
  end
  if withheld_n == before then
    break
  end
end
if got == 0 then
  return { EMPTY, nows }
end
redis.call("HINCRBY", KEYS[1], "totalrecv", got)
return out
