-- KEYS: queue hash, queue zset.
-- ARGV: realtime channel ("" = off), then per message: id suffix (22 chars), body,
--       delay ms ("" = queue default).
-- Reply: status, then per message: 0, id | TOO_LONG, size (maxsize is the queue's).
-- The time part of the n-th id of a batch is TIME + n µs, so ids (the zset's tie-break
-- within one ms score) keep the batch in FIFO order.
local q = get_queue(KEYS[1])
if not q then
  return { NO_QUEUE }
end
local now, t = now_ms()
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = { OK, q.maxsize }
local sent = 0
for i = 2, #ARGV, 3 do
  local body = ARGV[i + 1]
  if q.maxsize ~= -1 and #body > q.maxsize then
    table.insert(out, TOO_LONG)
    table.insert(out, #body)
  else
    local delay = q.delay
    if ARGV[i + 2] ~= "" then
      delay = tonumber(ARGV[i + 2])
    end
    local id = base36(us + sent) .. ARGV[i]
    redis.call("ZADD", KEYS[2], int(now + delay), id)
    redis.call("HSET", KEYS[1], id, body)
    sent = sent + 1
    table.insert(out, OK)
    table.insert(out, id)
  end
end
if sent > 0 then
  redis.call("HINCRBY", KEYS[1], "totalsent", sent)
  if ARGV[1] ~= "" then
    redis.call("PUBLISH", ARGV[1], redis.call("ZCARD", KEYS[2]))
  end
end
return out
