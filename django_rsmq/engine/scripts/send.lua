-- KEYS: queue hash, queue zset, then one de-duplication key per entry that has a dedup id.
-- ARGV: realtime channel ("" = off), then per message: id suffix (22 chars), body,
--       delay ms ("" = queue default), index of its dedup key in KEYS ("" = none).
-- Reply: status, maxsize, then per message: 0, id | TOO_LONG, size | QUEUE_FULL, max_messages
--        | DUPLICATE, id of the first message sent with that dedup id.
-- The time part of the n-th id of a batch is TIME + n µs, so ids (the zset's tie-break
-- within one ms score) keep the batch in FIFO order.
-- Reliability (docs/reliability.md): a dedup key lives for the queue's dedup window and
-- holds the first id; the check and the enqueue are this one script, so concurrent
-- producers cannot both enqueue. The max_messages cap counts every message in the zset.
local q = get_queue(KEYS[1])
if not q then
  return { NO_QUEUE }
end
local cfg = get_config(KEYS[1])
local now, t = now_ms()
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = { OK, q.maxsize }
local sent = 0
local size = cfg.max_messages and redis.call("ZCARD", KEYS[2]) or 0
for i = 2, #ARGV, 4 do
  local body = ARGV[i + 1]
  local dkey = ARGV[i + 3] ~= "" and KEYS[tonumber(ARGV[i + 3])] or nil
  local first = dkey and redis.call("GET", dkey)
  if first then
    table.insert(out, DUPLICATE)
    table.insert(out, first)
  elseif q.maxsize ~= -1 and #body > q.maxsize then
    table.insert(out, TOO_LONG)
    table.insert(out, #body)
  elseif cfg.max_messages and size >= cfg.max_messages then
    table.insert(out, QUEUE_FULL)
    table.insert(out, cfg.max_messages)
  else
    local delay = q.delay
    if ARGV[i + 2] ~= "" then
      delay = tonumber(ARGV[i + 2])
    end
    local id = base36(us + sent) .. ARGV[i]
    redis.call("ZADD", KEYS[2], int(now + delay), id)
    redis.call("HSET", KEYS[1], id, body)
    if dkey and cfg.dedup > 0 then
      redis.call("SET", dkey, id, "PX", cfg.dedup)
    end
    sent = sent + 1
    size = size + 1
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
