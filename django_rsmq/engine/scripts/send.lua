-- KEYS: queue hash, queue zset, then (only when an entry has a dedup id or a unique key)
--       the queue's de-duplication hash and its expiry index (keys.py QueueKeys.dedup,
--       dedup_index), then (only when an entry has a unique key) its unique-key hash
--       (QueueKeys.unique).
-- ARGV: realtime channel ("" = off), then per message: id (32 chars, made by the client:
--       engine/ids.py), body, delay ms ("" = queue default), dedup id ("" = none), unique
--       key ("" = none).
-- Reply: status, maxsize, then per message: 0, id | TOO_LONG, size | QUEUE_FULL, max_messages
--        | DUPLICATE, id of the first message sent with that dedup id, or of the message
--        that holds the unique key.
-- The client makes the ids before the call (the n-th of a batch is its time + n µs, so
-- ids, the zset's tie-break within one ms score, keep the batch in FIFO order): a replay
-- of the same ARGV after a lost reply finds its ids stored already and answers 0, id
-- for them again without storing anything (docs/reliability.md, "Which operations
-- retry"). Scores are Redis TIME.
-- Reliability (docs/reliability.md): the dedup hash maps a dedup id to
-- "<expiry ms>:<first id>" for the queue's dedup window, the index scores it by expiry;
-- the check and the enqueue are this one script, so concurrent producers cannot both
-- enqueue. Expired entries are pruned here (up to 100 + twice the batch per call) and by
-- sweep.lua; both keys expire with their last entry. The hash's field "" holds the
-- side-data id of the queue it was written for (ext:sid of the queue hash, set by the
-- first dedup send): a hash stamped otherwise belongs to an earlier queue of this name
-- that a plain RSMQ client deleted, and is dropped. The max_messages cap counts every
-- message in the zset.
-- Unique keys: the unique hash maps a key to the id of the message sent with it; a send
-- with the key is refused (DUPLICATE, that id) while that message is still in the queue
-- (waiting, delayed or in flight: its body is in the queue hash), so the key is free again
-- once the message is acked, deleted, dead-lettered or dropped, whoever removed it (a
-- peer included), without any other script knowing of unique keys. Entries of gone
-- messages are overwritten by the next send with the key and pruned by sweep.lua.
-- Cost: one HMGET reads the queue (the two settings send uses, totalsent, ext:sid and
-- whether the first id is stored), a batch reads its ids with one more HMGET, then the
-- whole batch is one ZADD and one HSET, which also writes totalsent (what HINCRBY would:
-- RSMQ clients only ever HINCRBY it, so it is an integer string). With dedup ids: HGET of
-- the stamp, one ZRANGEBYSCORE (+ HDEL/ZREM when entries expired), an HGET per entry, an
-- HSET and ZADD per remembered entry, then a ZRANGE and two PEXPIREATs.
local a = redis.call("HMGET", KEYS[1], "vt", "delay", "maxsize", "ext:max_messages",
  "ext:dedup_window", "totalsent", "ext:sid", ARGV[2] or "")
if not a[1] or not a[2] or not a[3] then
  return { NO_QUEUE }
end
local maxsize = tonumber(a[3]) or -1
local max_messages = tonumber(a[4])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if #ARGV == 6 and ARGV[5] == "" and ARGV[6] == "" and not max_messages then
  -- One message without a dedup id on a queue without a cap: no tables to build.
  local body = ARGV[3]
  if a[8] then
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
local dd, dt = KEYS[3], KEYS[4] -- dedup hash and expiry index (nil: no dedup id)
local uq = KEYS[5] -- unique-key hash (nil: no unique key)
local held = {} -- unique key -> id of a message of this batch that took it
local sid, stamped = a[7], false -- the queue's side-data id; dd carries it
local remembered = false
if dd then
  stamped = side_check(sid, dd, dt) -- drops a hash written for an earlier queue of this name
  -- Prune more than a batch can add, so expired entries never pile up.
  local expired = redis.call("ZRANGEBYSCORE", dt, "-inf", now, "LIMIT", 0,
    100 + 2 * math.floor(#ARGV / 5))
  if #expired > 0 then
    redis.call("HDEL", dd, unpack(expired))
    redis.call("ZREM", dt, unpack(expired))
  end
end
local out = { OK, maxsize }
local n = 2 -- entries in `out`
local scored, bodies = {}, {} -- ZADD score/member and HSET field/value pairs
local sent = 0
local size = max_messages and redis.call("ZCARD", KEYS[2]) or 0
local ids = {}
for i = 2, #ARGV, 5 do
  ids[#ids + 1] = ARGV[i]
end
local stored = #ids > 0 and redis.call("HMGET", KEYS[1], unpack(ids)) or {} -- replays
for i = 2, #ARGV, 5 do
  local body = ARGV[i + 1]
  local did = ARGV[i + 3] ~= "" and ARGV[i + 3] or nil
  local uk = ARGV[i + 4] ~= "" and ARGV[i + 4] or nil
  local first = false
  if did then
    local exp, mid = string.match(redis.call("HGET", dd, did) or "", "^(%d+):(.+)$")
    first = exp and tonumber(exp) > now and mid
  end
  if uk and not first and not stored[(i + 3) / 5] then
    if held[uk] then -- taken by an earlier message of this batch
      first = held[uk]
    else
      local holder = redis.call("HGET", uq, uk)
      if holder and holder ~= ARGV[i] and redis.call("HEXISTS", KEYS[1], holder) == 1 then
        first = holder
      end
    end
  end
  local code, value
  if stored[(i + 3) / 5] then
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
    if uk then
      redis.call("HSET", uq, uk, id)
      held[uk] = id
    end
    if did and dedup > 0 then
      redis.call("HSET", dd, did, int(now + dedup) .. ":" .. id)
      redis.call("ZADD", dt, now + dedup, did)
      remembered = true
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
  if remembered then
    if not sid then -- the first side data of this queue: give it its side-data id
      sid = t[1] .. string.format("%06d", tonumber(t[2])) -- TIME µs: opaque, unique
      bodies[2 * sent + 3] = "ext:sid"
      bodies[2 * sent + 4] = sid
    end
    if not stamped then
      redis.call("HSET", dd, "", sid)
    end
    local last = redis.call("ZRANGE", dt, -1, -1, "WITHSCORES")[2]
    redis.call("PEXPIREAT", dd, last)
    redis.call("PEXPIREAT", dt, last)
  end
  redis.call("ZADD", KEYS[2], unpack(scored))
  redis.call("HSET", KEYS[1], unpack(bodies))
  if ARGV[1] ~= "" then
    redis.call("PUBLISH", ARGV[1], redis.call("ZCARD", KEYS[2]))
  end
end
return out
