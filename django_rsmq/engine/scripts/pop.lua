-- KEYS: queue hash, queue zset, queue meta (side data), QUEUES set. ARGV: count, qname, its realtime channel,
-- realtime "1" | "".
-- Receives and deletes up to `count` visible messages, like RSMQ's popMessage.
-- Messages past retention or max_receives are withheld as in receive.lua.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local now = now_ms()
local cfg = get_config(KEYS[1])
local src = source(KEYS, ARGV[2], cfg, ARGV[3], ARGV[4])
local want = tonumber(ARGV[1])
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
      redis.call("HINCRBY", KEYS[1], "totalrecv", 1)
      local body = redis.call("HGET", KEYS[1], id)
      local rc = redis.call("HINCRBY", KEYS[1], id .. ":rc", 1)
      local fr = int(now)
      if rc > 1 then
        fr = redis.call("HGET", KEYS[1], id .. ":fr") or fr
      end
      remove_message(KEYS[1], KEYS[2], id, KEYS[3])
      got = got + 1
      table.insert(out, id)
      table.insert(out, body or false)
      table.insert(out, rc)
      table.insert(out, fr)
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
