-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set.
-- ARGV: vt ms ("" = queue default), count, qname, its realtime channel, realtime "1" | "".
-- Hides up to `count` visible messages for vt, exactly like RSMQ's receiveMessage per message.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
-- Reliability (docs/reliability.md): a visible message past the queue's retention, or
-- already received max_receives times (vt expiries and nacks alike), is dropped or moved
-- to the DLQ here instead of being delivered (withheld() in _lib.lua), and the next
-- visible one is taken. On queues with max_receives the last receive time is kept as
-- side data ({id}:lr). Each call also runs one bounded step of the side-data sweep.
local q = get_queue(KEYS[1])
if not q then
  return { NO_QUEUE }
end
local now = now_ms()
local cfg = get_config(KEYS[1])
local src = source(KEYS, ARGV[3], cfg, ARGV[4], ARGV[5])
local vt = q.vt
if ARGV[1] ~= "" then
  vt = tonumber(ARGV[1])
end
local want = tonumber(ARGV[2])
local out = { OK, int(now) }
-- Another pass is only needed when messages were withheld; `seen` skips messages this call
-- already delivered (a vt of 0 leaves them visible).
local got, withheld_n, seen = 0, 0, {}
while got < want and withheld_n < 10000 do
  local ids = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", int(now), "LIMIT", 0, want)
  local before = withheld_n
  for _, id in ipairs(ids) do
    if got >= want or seen[id] then
      -- full, or delivered earlier in this call
      seen[id] = true
    elseif withheld(src, cfg, id, now) then
      withheld_n = withheld_n + 1
    else
      seen[id] = true
      redis.call("ZADD", KEYS[2], int(now + vt), id)
      redis.call("HINCRBY", KEYS[1], "totalrecv", 1)
      local body = redis.call("HGET", KEYS[1], id)
      local rc = redis.call("HINCRBY", KEYS[1], id .. ":rc", 1)
      local fr
      if rc == 1 then
        redis.call("HSET", KEYS[1], id .. ":fr", int(now))
        fr = int(now)
      else
        fr = redis.call("HGET", KEYS[1], id .. ":fr")
      end
      if cfg.max_receives then
        redis.call("HSET", KEYS[3], id .. ":lr", int(now))
      end
      got = got + 1
      table.insert(out, id)
      table.insert(out, body or false)
      table.insert(out, rc)
      table.insert(out, fr or false)
    end
  end
  if withheld_n == before then
    break
  end
end
gc_side(KEYS[1], KEYS[2], KEYS[3], 20)
if got == 0 then
  return { EMPTY, int(now) }
end
return out
