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
-- Cost: the whole batch is one ZADD, one HSET and one HINCRBY (plus a GET/SET per dedup
-- id), whatever its size.
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local cfg = q.cfg
local now, t = now_ms()
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = { OK, q.maxsize }
local n = 2 -- entries in `out`
local scored, bodies = {}, {} -- ZADD score/member and HSET field/value pairs
local sent = 0
local size = cfg.max_messages and redis.call("ZCARD", KEYS[2]) or 0
for i = 2, #ARGV, 4 do
  local body = ARGV[i + 1]
  local dkey = ARGV[i + 3] ~= "" and KEYS[tonumber(ARGV[i + 3])] or nil
  local first = dkey and redis.call("GET", dkey)
  local code, value
  if first then
    code, value = DUPLICATE, first
  elseif q.maxsize ~= -1 and #body > q.maxsize then
    code, value = TOO_LONG, #body
  elseif cfg.max_messages and size >= cfg.max_messages then
    code, value = QUEUE_FULL, cfg.max_messages
  else
    local delay = q.delay
    if ARGV[i + 2] ~= "" then
      delay = tonumber(ARGV[i + 2])
    end
    local id = base36(us + sent) .. ARGV[i]
    scored[2 * sent + 1] = now + delay -- redis.call sends numbers as %.17g: exact
    scored[2 * sent + 2] = id
    bodies[2 * sent + 1] = id
    bodies[2 * sent + 2] = body
    if dkey and cfg.dedup > 0 then
      redis.call("SET", dkey, id, "PX", cfg.dedup)
    end
    sent = sent + 1
    size = size + 1
    code, value = OK, id
  end
  out[n + 1] = code
  out[n + 2] = value
  n = n + 2
end
if sent > 0 then
  redis.call("ZADD", KEYS[2], unpack(scored))
  redis.call("HSET", KEYS[1], unpack(bodies))
  redis.call("HINCRBY", KEYS[1], "totalsent", sent)
  if ARGV[1] ~= "" then
    redis.call("PUBLISH", ARGV[1], redis.call("ZCARD", KEYS[2]))
  end
end
return out
