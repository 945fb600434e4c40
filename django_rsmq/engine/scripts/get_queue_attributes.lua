-- KEYS: queue hash, queue zset.
-- Reply: status, now_ms, vt, delay, maxsize, totalrecv, totalsent, created, modified,
--        msgs, hiddenmsgs (RSMQ: from the start of the current second), visible,
--        in_flight, delayed, id of the oldest visible message (or false),
--        then the reliability fields (ext:max_receives, ext:dlq, ext:retry, ext:retention,
--        ext:retention_action, ext:max_messages, ext:dedup_window, ext:failed_cap,
--        ext:failed_ttl; false when unset).
local now, t = now_ms()
local a = redis.call("HMGET", KEYS[1], "vt", "delay", "maxsize", "totalrecv", "totalsent",
  "created", "modified")
if not a[1] or not a[2] or not a[3] then
  return { NO_QUEUE }
end
local msgs = redis.call("ZCARD", KEYS[2])
local hiddenmsgs = redis.call("ZCOUNT", KEYS[2], t[1] .. "000", "+inf")
local visible = redis.call("ZCOUNT", KEYS[2], "-inf", int(now))
-- Hidden messages that were received at least once are in flight; the others are delayed.
-- O(hidden), walked in pages so the reply never holds them all.
local in_flight, offset, page = 0, 0, 1000
while true do
  local ids = redis.call("ZRANGEBYSCORE", KEYS[2], "(" .. int(now), "+inf", "LIMIT", offset, page)
  for _, id in ipairs(ids) do
    in_flight = in_flight + redis.call("HEXISTS", KEYS[1], id .. ":rc")
  end
  if #ids < page then
    break
  end
  offset = offset + page
end
local delayed = (msgs - visible) - in_flight
local head = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", int(now), "LIMIT", 0, 1)
local out = { OK, int(now), a[1], a[2], a[3], a[4] or "0", a[5] or "0", a[6] or "0",
  a[7] or "0", msgs, hiddenmsgs, visible, in_flight, delayed, head[1] or false }
local ext = redis.call("HMGET", KEYS[1], "ext:max_receives", "ext:dlq", "ext:retry",
  "ext:retention", "ext:retention_action", "ext:max_messages", "ext:dedup_window",
  "ext:failed_cap", "ext:failed_ttl")
for i = 1, #ext do
  table.insert(out, ext[i])
end
return out
