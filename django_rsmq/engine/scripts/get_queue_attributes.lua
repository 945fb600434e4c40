-- KEYS: queue hash, queue zset, in-flight index (keys.py: id -> hidden-until ms of the
--       messages django-rsmq received, kept by receive, change_visibility, nack, fail,
--       delete, quarantine, dead-lettering, purge_expired and purge).
-- Reply: status, now_ms, vt, delay, maxsize, totalrecv, totalsent, created, modified,
--        msgs, hiddenmsgs (RSMQ: from the start of the current second), visible,
--        in_flight, delayed, id of the oldest visible message (or false),
--        then the reliability fields (ext:max_receives, ext:dlq, ext:retry, ext:retention,
--        ext:retention_action, ext:max_messages, ext:dedup_window, ext:failed_cap,
--        ext:failed_ttl, ext:paused, ext:rate, ext:cap; false when unset).
-- Cost: the same eight commands at any queue size, each O(log n) or O(1); nothing walks
-- the hidden messages. msgs, hiddenmsgs, visible and hidden (= in_flight + delayed) are
-- exact. in_flight = the index's entries still hidden, capped at hidden; delayed = the
-- rest. Exact for everything django-rsmq does; a plain RSMQ client's receive counts as
-- delayed, and its delete or visibility change of a message we hold leaves it counted in
-- flight until its old visibility time passes (docs/engine.md).
local now, t = now_ms()
local a = redis.call("HMGET", KEYS[1], "vt", "delay", "maxsize", "totalrecv", "totalsent",
  "created", "modified")
if not a[1] or not a[2] or not a[3] then
  return { NO_QUEUE }
end
local msgs = redis.call("ZCARD", KEYS[2])
local hiddenmsgs = redis.call("ZCOUNT", KEYS[2], t[1] .. "000", "+inf")
local visible = redis.call("ZCOUNT", KEYS[2], "-inf", int(now))
local hidden = msgs - visible
local in_flight = math.min(redis.call("ZCOUNT", KEYS[3], "(" .. int(now), "+inf"), hidden)
local delayed = hidden - in_flight
local head = visible > 0 and redis.call("ZRANGE", KEYS[2], 0, 0) or {}
local out = { OK, int(now), a[1], a[2], a[3], a[4] or "0", a[5] or "0", a[6] or "0",
  a[7] or "0", msgs, hiddenmsgs, visible, in_flight, delayed, head[1] or false }
local ext = redis.call("HMGET", KEYS[1], "ext:max_receives", "ext:dlq", "ext:retry",
  "ext:retention", "ext:retention_action", "ext:max_messages", "ext:dedup_window",
  "ext:failed_cap", "ext:failed_ttl", "ext:paused", "ext:rate", "ext:cap")
for i = 1, #ext do
  table.insert(out, ext[i])
end
return out
