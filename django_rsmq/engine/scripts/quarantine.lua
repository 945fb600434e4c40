-- KEYS: queue hash, queue zset, queue meta, QUEUES set, failed records hash, their index,
--       in-flight index (the message's entry goes with it).
-- ARGV: qname, id, receipt rc, reason ("undecodable"), error JSON {type, message,
--       traceback} (from Python, kept in the record), the queue's realtime channel,
--       realtime "1" | "".
-- Quarantine one received message that the client found to be poison (an undecodable
-- body: fail() of a BodyDecodeError), fenced by its receipt like fail.lua: to the
-- queue's DLQ, else into a failure record (quarantine() in _lib.lua), at once instead of
-- retried; docs/reliability.md "Poison data".
-- Reply: OK, record id ("" when dead-lettered or failed_cap is 0), dead-lettered 1|0 |
--        NO_QUEUE | NO_MESSAGE | STALE, current rc.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local id = ARGV[2]
if not redis.call("ZSCORE", KEYS[2], id) then
  return { NO_MESSAGE }
end
local stored = redis.call("HGET", KEYS[1], id .. ":rc")
local rc = tonumber(stored or "0")
if rc ~= tonumber(ARGV[3]) then
  return { STALE, rc or -1 }
end
local now, t = now_ms()
local dead, rid = quarantine(KEYS, ARGV[1], ARGV[6], ARGV[7], id, ARGV[4], stored, now, t,
  cjson.decode(ARGV[5]))
cap_freed(redis.call("HGET", KEYS[1], "ext:cap"), KEYS[2]) -- a capped queue's slot is free
return { OK, rid, dead and 1 or 0 }
