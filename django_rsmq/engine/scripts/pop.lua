-- KEYS: queue hash, queue zset. ARGV: count.
-- Receives and deletes up to `count` visible messages, like RSMQ's popMessage.
-- Reply: status, now_ms, then id, body, rc, fr for each message.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local now = now_ms()
local ids = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", int(now), "LIMIT", 0, tonumber(ARGV[1]))
if #ids == 0 then
  return { EMPTY, int(now) }
end
local out = { OK, int(now) }
for _, id in ipairs(ids) do
  redis.call("HINCRBY", KEYS[1], "totalrecv", 1)
  local body = redis.call("HGET", KEYS[1], id)
  local rc = redis.call("HINCRBY", KEYS[1], id .. ":rc", 1)
  local fr = int(now)
  if rc > 1 then
    fr = redis.call("HGET", KEYS[1], id .. ":fr") or fr
  end
  remove_message(KEYS[1], KEYS[2], id)
  table.insert(out, id)
  table.insert(out, body or false)
  table.insert(out, rc)
  table.insert(out, fr)
end
return out
