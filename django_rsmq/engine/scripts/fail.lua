-- KEYS: queue hash, queue zset, queue meta, QUEUES set, failed records hash, their index,
--       in-flight index (the entry is removed: waiting for its retry the message holds no
--       slot of a concurrency cap and counts as delayed).
-- ARGV: qname, id, receipt rc, record id suffix (22 chars), error JSON {type, message,
--       traceback} (from Python, stored as is), u (random draw for the retry jitter), the
--       queue's realtime channel, realtime "1" | "", then optionally the handler's outcome
--       (consumer/outcomes.py): a delay ms that replaces the retry policy's ("" = the
--       policy's), and a mode: "" (retry or dead-letter as above), "dead" (dead-letter now,
--       whatever rc; a queue without a DLQ drops the message) or "discard" (drop it).
-- One atomic step: store a failure record (capped at failed_cap, older than failed_ttl
-- dropped), then dead-letter the message when it was received max_receives times, else
-- make it receivable again after the retry policy's delay (0 without a policy). Records
-- stamped for an earlier queue of this name (side_check in _lib.lua) are dropped first.
-- Reply: OK, record id ("" when failed_cap is 0), dead-lettered 1|0 (2: dropped), delay ms
--        (-1 when dead-lettered or dropped) | NO_MESSAGE | STALE, current rc.
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local id = ARGV[2]
if not redis.call("ZSCORE", KEYS[2], id) then
  return { NO_MESSAGE }
end
local rc = tonumber(redis.call("HGET", KEYS[1], id .. ":rc") or "0")
if rc ~= tonumber(ARGV[3]) then
  return { STALE, rc }
end
local now, t = now_ms()
local cfg = q.cfg
local src = source(KEYS, ARGV[1], cfg, ARGV[7], ARGV[8])
local mode = ARGV[10] or ""
local drop = mode == "discard" or (mode == "dead" and not src.dlq)
local dead = (not drop) and src.dlq
  and (mode == "dead" or (cfg.max_receives and rc >= cfg.max_receives)) and true or false
local delay = -1
if not dead and not drop then
  if ARGV[9] and ARGV[9] ~= "" then
    delay = tonumber(ARGV[9])
  else
    delay = retry_delay_ms(cfg.retry, rc, tonumber(ARGV[6]))
  end
end
local e = cjson.decode(ARGV[5])
local rid = ""
if cfg.failed_cap > 0 then
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local sid = redis.call("HGET", KEYS[1], "ext:sid")
  side_stamp(KEYS[1], sid, KEYS[5], side_check(sid, KEYS[5], KEYS[6]), us)
  rid = base36(us) .. ARGV[4]
  local m = { queue = ARGV[1], id = id, rc = rc, at = now, dead = dead }
  if drop then
    m.discarded = true
  elseif not dead then
    m.retry_in = delay
  end
  redis.call("HSET", KEYS[5], rid, ARGV[5], rid .. ":m", cjson.encode(m), rid .. ":b",
    redis.call("HGET", KEYS[1], id) or "")
  redis.call("ZADD", KEYS[6], int(now), rid)
  trim_failed(KEYS[5], KEYS[6], cfg, now)
end
local err = { type = e.type, message = e.message, record = rid }
if drop then
  remove_message(KEYS[1], KEYS[2], id, KEYS[3], KEYS[7])
  return { OK, rid, 2, -1 }
elseif dead then
  dead_letter(src, id, now, mode == "dead" and "dead_letter" or "failed", err)
else
  if src.dlq then
    redis.call("HSET", KEYS[3], id .. ":err", cjson.encode(err))
  end
  -- {id}:st = rc: this delivery is settled, so a visibility extension still in flight
  -- with its receipt (the consumer's keeper) cannot hide the message past the retry delay.
  redis.call("HSET", KEYS[3], id .. ":st", rc)
  redis.call("ZADD", KEYS[2], int(now + delay), id)
  redis.call("ZREM", KEYS[7], id)
end
cap_freed(redis.call("HGET", KEYS[1], "ext:cap"), KEYS[2])
return { OK, rid, dead and 1 or 0, delay }
