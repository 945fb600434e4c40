-- KEYS: queue hash, queue zset. ARGV: vt ms ("" = queue default), count.
-- Hides up to `count` visible messages for vt, exactly like RSMQ's receiveMessage per message.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
local q = get_queue(KEYS[1])
if not q then
  return { NO_QUEUE }
end
local now = now_ms()
local ids = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", int(now), "LIMIT", 0, tonumber(ARGV[2]))
if #ids == 0 then
  return { EMPTY, int(now) }
end
local vt = q.vt
if ARGV[1] ~= "" then
  vt = tonumber(ARGV[1])
end
local out = { OK, int(now) }
for _, id in ipairs(ids) do
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
  table.insert(out, id)
  table.insert(out, body or false)
  table.insert(out, rc)
  table.insert(out, fr or false)
end
return out
