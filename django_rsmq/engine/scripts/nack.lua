-- KEYS: queue hash, queue zset, queue meta (gets {id}:st = rc: this delivery is settled),
--       in-flight index (the message leaves it: waiting for its retry it holds no slot of a
--       concurrency cap, and counts as delayed).
-- ARGV: id, receipt rc, delay ms ("" = the queue's retry policy picks it from rc), u
--       (random draw in [0, 1) for the policy's jitter).
-- Makes a received message receivable again after the delay; rc is untouched, so the next
-- receive counts towards max_receives (receive.lua moves it to the DLQ past the limit).
-- Reply: OK, delay ms | NO_MESSAGE | STALE, current rc.
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local id = ARGV[1]
if not redis.call("ZSCORE", KEYS[2], id) then
  return { NO_MESSAGE }
end
local rc = tonumber(redis.call("HGET", KEYS[1], id .. ":rc") or "0")
if rc ~= tonumber(ARGV[2]) then
  return { STALE, rc }
end
local delay
if ARGV[3] ~= "" then
  delay = tonumber(ARGV[3])
else
  delay = retry_delay_ms(q.cfg.retry, rc, tonumber(ARGV[4]))
end
local now = now_ms()
redis.call("HSET", KEYS[3], id .. ":st", rc) -- no extension by this receipt lands after
redis.call("ZADD", KEYS[2], int(now + delay), id)
redis.call("ZREM", KEYS[4], id)
cap_freed(redis.call("HGET", KEYS[1], "ext:cap"), KEYS[2])
return { OK, delay }
