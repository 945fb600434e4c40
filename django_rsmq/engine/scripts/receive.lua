-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set.
-- ARGV: vt ms ("" = queue default), count, qname, its realtime channel, realtime "1" | "".
-- Hides up to `count` visible messages for vt, exactly like RSMQ's receiveMessage per message.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
-- Reliability (docs/reliability.md): a visible message past the queue's retention, or
-- already received max_receives times (vt expiries and nacks alike), is dropped or moved
-- to the DLQ here instead of being delivered (withheld() in _lib.lua), and the next
-- visible one is taken. On queues with max_receives the last receive time is kept as
-- side data ({id}:lr). Each call also runs one bounded step of the side-data sweep.
-- Cost: the messages taken in one pass are hidden with one ZADD and read with one HMGET;
-- a first delivery's rc and fr are set by one HSET for all of them, a redelivery's rc
-- takes one HINCRBY.
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local now = now_ms()
local cfg = q.cfg
gc_side(KEYS[1], KEYS[2], KEYS[3], 20, q.gc)
-- Whether withheld() can hold anything back: without these settings it never does.
local guarded = cfg.retention or (cfg.max_receives and cfg.dlq)
local src = guarded and source(KEYS, ARGV[3], cfg, ARGV[4], ARGV[5])
local vt = q.vt
if ARGV[1] ~= "" then
  vt = tonumber(ARGV[1])
end
local hidden_until = int(now + vt)
local want = tonumber(ARGV[2])
local out = { OK, int(now) }
local n = 2 -- entries in `out`

-- Deliver `take` (ids, visible, not withheld): hide them, count the receive, reply.
local function deliver(take)
  local scored, fields = {}, {}
  for i, id in ipairs(take) do
    scored[2 * i - 1] = hidden_until
    scored[2 * i] = id
    fields[3 * i - 2] = id
    fields[3 * i - 1] = id .. ":rc"
    fields[3 * i] = id .. ":fr"
  end
  redis.call("ZADD", KEYS[2], unpack(scored))
  local f = redis.call("HMGET", KEYS[1], unpack(fields))
  local set = {} -- rc and fr of first deliveries, as HSET field/value pairs
  for i, id in ipairs(take) do
    local rc, fr = 1, f[3 * i]
    if f[3 * i - 1] then
      rc = redis.call("HINCRBY", KEYS[1], id .. ":rc", 1)
    else
      set[#set + 1] = id .. ":rc"
      set[#set + 1] = "1"
    end
    if rc == 1 then -- like RSMQ: the first receive (re)sets fr
      fr = int(now)
      set[#set + 1] = id .. ":fr"
      set[#set + 1] = fr
    end
    out[n + 1] = id
    out[n + 2] = f[3 * i - 2] or false
    out[n + 3] = rc
    out[n + 4] = fr or false
    n = n + 4
  end
  if #set > 0 then
    redis.call("HSET", KEYS[1], unpack(set))
  end
  if cfg.max_receives then
    local last = {}
    for i, id in ipairs(take) do
      last[2 * i - 1] = id .. ":lr"
      last[2 * i] = int(now)
    end
    redis.call("HSET", KEYS[3], unpack(last))
  end
end

-- Another pass is only needed when messages were withheld; `seen` skips messages this call
-- already delivered (a vt of 0 leaves them visible).
local got, withheld_n, seen = 0, 0, {}
while got < want and withheld_n < 10000 do
  local ids = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", int(now), "LIMIT", 0, want)
  local before = withheld_n
  local take = {}
  for _, id in ipairs(ids) do
    if got >= want or seen[id] then
      -- full, or delivered earlier in this call
      seen[id] = true
    elseif guarded and withheld(src, cfg, id, now) then
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
  return { EMPTY, int(now) }
end
redis.call("HINCRBY", KEYS[1], "totalrecv", got)
return out
