-- KEYS: queue hash, queue zset, then one de-duplication key per entry that has a dedup id.
-- ARGV: realtime channel ("" = off), then per message: id (32 chars, made by the client:
--       engine/ids.py), body, delay ms ("" = queue default), index of its dedup key in
--       KEYS ("" = none).
-- Reply: status, maxsize, then per message: 0, id | TOO_LONG, size | QUEUE_FULL, max_messages
--        | DUPLICATE, id of the first message sent with that dedup id.
-- The client makes the ids before the call (the n-th of a batch is its time + n µs, so
-- ids, the zset's tie-break within one ms score, keep the batch in FIFO order): a replay
-- of the same ARGV after a lost reply finds its ids stored already and answers 0, id
-- for them again without storing anything (docs/reliability.md, "Which operations
-- retry"). Scores are Redis TIME.
-- Reliability (docs/reliability.md): a dedup key lives for the queue's dedup window and
-- holds the first id; the check and the enqueue are this one script, so concurrent
-- producers cannot both enqueue. The max_messages cap counts every message in the zset.
-- Cost: one HMGET reads the queue (the two settings send uses, totalsent and whether the
-- first id is stored), a batch reads its ids with one more HMGET, then the
-- whole batch is one ZADD and one HSET, which also writes totalsent (what HINCRBY would:
-- RSMQ clients only ever HINCRBY it, so it is an integer string), plus a GET/SET per
-- dedup id.
local a = redis.call("HMGET", KEYS[1], "vt", "delay", "maxsize", "ext:max_messages",
  "ext:dedup_window", "totalsent", ARGV[2] or "")
if not a[1] or not a[2] or not a[3] then
  return { NO_QUEUE }
end
local maxsize = tonumber(a[3]) or -1
local max_messages = tonumber(a[4])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if #ARGV == 5 and ARGV[5] == "" and not max_messages then
  -- One message without a dedup id on a queue without a cap: no tables to build.
  local body = ARGV[3]
  if a[7] then
    return { OK, maxsize, OK, ARGV[2] } -- a replay: stored by the first run
  end
  if maxsize ~= -1 and #body > maxsize then
    return { OK, maxsize, TOO_LONG, #body }
  end
  local id = ARGV[2]
  local delay = ARGV[4] ~= "" and tonumber(ARGV[4]) or seconds_to_ms(a[2])
  redis.call("ZADD", KEYS[2], now + delay, id) -- numbers go as %.17g: exact
  redis.call("HSET", KEYS[1], id, body, "totalsent", int((tonumber(a[6]) or 0) + 1))
  if ARGV[1] ~= "" then
    redis.call("PUBLISH", ARGV[1], redis.call("ZCARD", KEYS[2]))
  end
  return { OK, maxsize, OK, id }
end
local default_delay = seconds_to_ms(a[2])
local dedup = a[5] and seconds_to_ms(a[5]) or DEDUP_DEFAULT_MS
local out = { OK, maxsize }
local n = 2 -- entries in `out`
local scored, bodies = {}, {} -- ZADD score/member and HSET field/value pairs
local sent = 0
local size = max_messages and redis.call("ZCARD", KEYS[2]) or 0
local ids = {}
for i = 2, #ARGV, 4 do
  ids[#ids + 1] = ARGV[i]
end
local stored = #ids > 0 and redis.call("HMGET", KEYS[1], unpack(ids)) or {} -- replays
for i = 2, #ARGV, 4 do
  local body = ARGV[i + 1]
  local dkey = ARGV[i + 3] ~= "" and KEYS[tonumber(ARGV[i + 3])] or nil
  local first = dkey and redis.call("GET", dkey)
  local code, value
  if stored[(i + 2) / 4] then
    code, value = OK, ARGV[i]
  elseif first then
    code, value = DUPLICATE, first
  elseif maxsize ~= -1 and #body > maxsize then
    code, value = TOO_LONG, #body
  elseif max_messages and size >= max_messages then
    code, value = QUEUE_FULL, max_messages
  else
    local delay = default_delay
    if ARGV[i + 2] ~= "" then
      delay = tonumber(ARGV[i + 2])
    end
    local id = ARGV[i]
    scored[2 * sent + 1] = now + delay
    scored[2 * sent + 2] = id
    bodies[2 * sent + 1] = id
    bodies[2 * sent + 2] = body
    if dkey and dedup > 0 then
      redis.call("SET", dkey, id, "PX", dedup)
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
  bodies[2 * sent + 1] = "totalsent"
  bodies[2 * sent + 2] = int((tonumber(a[6]) or 0) + sent)
  redis.call("ZADD", KEYS[2], unpack(scored))
  redis.call("HSET", KEYS[1], unpack(bodies))
  if ARGV[1] ~= "" then
    redis.call("PUBLISH", ARGV[1], redis.call("ZCARD", KEYS[2]))
  end
end
return out
