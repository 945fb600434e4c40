-- django-rsmq shared Lua helpers. Redis runs a script's whole text on every call, so each
-- script gets only the blocks of this file it uses (scripts/__init__.py): keep one
-- definition (or a few related ones) per block, blocks separated by a blank line, and no
-- unindented line starting with "--" or "local" after a blank line inside a function.
--
-- Status codes returned as the first element of every reply (see engine/protocol/base.py):
--   0 ok, 1 empty, -1 queue not found, -2 queue exists, -3 message too long,
--   -4 message not found, -5 stale receipt, -6 queue full (per entry), 2 duplicate (per entry)
local OK, EMPTY, NO_QUEUE, QUEUE_EXISTS, TOO_LONG, NO_MESSAGE, STALE = 0, 1, -1, -2, -3, -4, -5
local QUEUE_FULL, DUPLICATE = -6, 2

-- Integer to decimal string without exponent notation (Lua prints 14 significant digits).
local function int(n)
  return string.format("%d", n)
end

-- Redis TIME as epoch milliseconds (floored, like RSMQ) plus the raw reply.
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), t
end

-- Seconds as stored by any RSMQ client ("30", or PyRSMQ's "1.5") to milliseconds.
local function seconds_to_ms(v)
  return math.floor((tonumber(v) or 0) * 1000 + 0.5)
end

-- Reliability settings (docs/reliability.md) are ext:* fields of the queue hash; the names
-- match FIELDS in engine/reliability.py, the defaults its *_DEFAULT constants.
local DEDUP_DEFAULT_MS, FAILED_CAP_DEFAULT, FAILED_TTL_DEFAULT_MS = 300000, 1000, 604800000

-- The reliability fields that get_queue(hkey, true) reads.
local CFG = { "ext:max_receives", "ext:dlq_target", "ext:retry", "ext:retention",
  "ext:retention_action", "ext:max_messages", "ext:dedup_window", "ext:failed_cap",
  "ext:failed_ttl" }

-- The queue's vt/delay in ms and maxsize, or nil when the queue does not exist.
-- A queue exists for RSMQ when vt, delay and maxsize are all present. With `config`, the
-- same HMGET also reads the reliability settings (q.cfg) and the cursor of the side-data
-- sweep (q.gc, see gc_side).
local function get_queue(hkey, config)
  local a
  if config then
    a = redis.call("HMGET", hkey, "vt", "delay", "maxsize", "ext:gc", unpack(CFG))
  else
    a = redis.call("HMGET", hkey, "vt", "delay", "maxsize")
  end
  if not a[1] or not a[2] or not a[3] then
    return nil
  end
  local q = { vt = seconds_to_ms(a[1]), delay = seconds_to_ms(a[2]), maxsize = tonumber(a[3]) or -1 }
  if config then
    q.gc = a[4] or "0"
    if not (a[5] or a[6] or a[7] or a[8] or a[9] or a[10] or a[11] or a[12] or a[13]) then
      -- The common case, a queue without reliability settings: only the defaults.
      q.cfg = { retention_action = "drop", dedup = DEDUP_DEFAULT_MS,
        failed_cap = FAILED_CAP_DEFAULT, failed_ttl = FAILED_TTL_DEFAULT_MS }
      return q
    end
    q.cfg = {
      max_receives = tonumber(a[5]),
      dlq = a[6] and cjson.decode(a[6]) or nil, -- {name, h, z, m, s, c}: keys made by keys.py
      retry = a[7] or nil,
      retention = a[8] and seconds_to_ms(a[8]) or nil,
      retention_action = a[9] or "drop",
      max_messages = tonumber(a[10]),
      dedup = a[11] and seconds_to_ms(a[11]) or DEDUP_DEFAULT_MS,
      failed_cap = tonumber(a[12]) or FAILED_CAP_DEFAULT,
      failed_ttl = a[13] and seconds_to_ms(a[13]) or FAILED_TTL_DEFAULT_MS,
    }
  end
  return q
end

-- What receive and pop read of queue `hkey` with one HMGET, or nil when it does not exist:
-- its vt in ms, the side-data sweep cursor (see gc_side), max_receives (or nil) and,
-- only when withheld() can hold a message back (retention, or max_receives with a DLQ),
-- the settings withheld() reads (the same values get_queue(hkey, true) gives), else nil;
-- whether the queue is paused (ext:paused = "1": pause.lua), and its rate limit and token
-- bucket (ext:rate, ext:rl: rate_tokens), nil without one; its concurrency cap (ext:cap:
-- in_flight_cap), nil without one.
local function get_receive_queue(hkey)
  local a = redis.call("HMGET", hkey, "vt", "delay", "maxsize", "ext:gc", "ext:max_receives",
    "ext:dlq_target", "ext:retention", "ext:retention_action", "ext:paused", "ext:rate",
    "ext:rl", "ext:cap")
  if not a[1] or not a[2] or not a[3] then
    return nil
  end
  local max_receives = tonumber(a[5])
  local dlq = a[6] and cjson.decode(a[6]) or nil -- {name, h, z, m, s, c}: keys made by keys.py
  local retention = a[7] and seconds_to_ms(a[7]) or nil
  local cfg
  if retention or (max_receives and dlq) then
    cfg = { max_receives = max_receives, dlq = dlq, retention = retention,
      retention_action = a[8] or "drop" }
  end
  return seconds_to_ms(a[1]), a[4] or "0", max_receives, cfg, a[9] == "1", a[10], a[11],
    a[12]
end

-- A rate-limited queue's token bucket (engine/ratelimit.py): `rate` is ext:rate
-- "<limit>:<period ms>:<burst>", `rl` the state ext:rl "<tokens>:<ms>" (nil: full).
-- Returns the tokens at `now` and the refill per ms, or nil for a malformed rate.
local function rate_tokens(rate, rl, now)
  local limit, period, burst = string.match(rate, "^(%d+):(%d+):(%d+)$")
  if not limit or tonumber(period) == 0 then
    return nil
  end
  local per_ms = tonumber(limit) / tonumber(period)
  local cap = tonumber(burst)
  local tokens = cap
  local left, at = string.match(rl or "", "^([%d.]+):(%d+)$")
  if left then
    tokens = math.min(cap, tonumber(left) + math.max(0, now - tonumber(at)) * per_ms)
  end
  return tokens, per_ms
end

-- Non-negative integer (exact below 2^53) to lowercase base 36, like Number#toString(36).
-- Epoch µs (every id's time part) have 10 digits until 2085: those take one string.char
-- of the unrolled digits (a sixth of the general loop's time, which builds a table).
local function base36(n)
  if n >= 101559956668416 and n < 3656158440062976 then -- 36^9 <= n < 36^10
    local d0 = n % 36
    n = (n - d0) / 36
    local d1 = n % 36
    n = (n - d1) / 36
    local d2 = n % 36
    n = (n - d2) / 36
    local d3 = n % 36
    n = (n - d3) / 36
    local d4 = n % 36
    n = (n - d4) / 36
    local d5 = n % 36
    n = (n - d5) / 36
    local d6 = n % 36
    n = (n - d6) / 36
    local d7 = n % 36
    n = (n - d7) / 36
    local d8 = n % 36
    local d9 = (n - d8) / 36
    return string.char(d9 < 10 and d9 + 48 or d9 + 87, d8 < 10 and d8 + 48 or d8 + 87,
      d7 < 10 and d7 + 48 or d7 + 87, d6 < 10 and d6 + 48 or d6 + 87,
      d5 < 10 and d5 + 48 or d5 + 87, d4 < 10 and d4 + 48 or d4 + 87,
      d3 < 10 and d3 + 48 or d3 + 87, d2 < 10 and d2 + 48 or d2 + 87,
      d1 < 10 and d1 + 48 or d1 + 87, d0 < 10 and d0 + 48 or d0 + 87)
  end
  if n == 0 then
    return "0"
  end
  local out = ""
  while n > 0 do
    local d = n % 36
    out = string.char(d < 10 and d + 48 or d + 87) .. out
    n = (n - d) / 36
  end
  return out
end

-- Up to `want` ids of a queue's zset that are visible at `nows` (ms), oldest first.
local function visible_ids(zkey, nows, want)
  if want <= 0 then
    return {}
  end
  return redis.call("ZRANGEBYSCORE", zkey, "-inf", nows, "LIMIT", 0, want)
end

-- Remove a message's RSMQ data: zset member and the three hash fields, plus its side
-- entries in the queue's meta hash when `mkey` is given (see "Side data" below) and its
-- in-flight index entry when `fkey` is given.
-- Returns ZREM's and HDEL's counts (RSMQ's deleteMessage reports both).
local function remove_message(hkey, zkey, id, mkey, fkey)
  local z = redis.call("ZREM", zkey, id)
  if fkey then
    redis.call("ZREM", fkey, id)
  end
  local h = redis.call("HDEL", hkey, id, id .. ":rc", id .. ":fr")
  if mkey then
    redis.call("HDEL", mkey, id .. ":lr", id .. ":err", id .. ":dl", id .. ":st")
  end
  return z, h
end

-- The send time of an RSMQ id (base 36 epoch µs in its first 10 chars) in ms, or nil.
local function sent_ms_of(id)
  local us = tonumber(string.sub(id, 1, 10), 36)
  if not us then
    return nil
  end
  return math.floor(us / 1000)
end

-- Retry delay in ms after delivery number `rc` failed (engine/retry.py RetryPolicy.delay).
-- `u` in [0, 1) is the client's random draw for the jitter (scripts must be deterministic).
local function retry_delay_ms(policy, rc, u)
  if not policy then
    return 0
  end
  local p = cjson.decode(policy)
  local n = math.max(rc, 1)
  if p.delays then
    return seconds_to_ms(p.delays[math.min(n, #p.delays)])
  end
  local d = math.min(p.max, p.base * p.factor ^ (n - 1))
  return seconds_to_ms(d * (1 - p.jitter * u))
end

-- Create a queue (a move target {name, h, s}) with RSMQ defaults if it does not exist.
local function ensure_queue(t)
  if redis.call("HEXISTS", t.h, "vt") == 0 then
    local tm = redis.call("TIME")
    redis.call("HSET", t.h, "vt", "30", "delay", "0", "maxsize", "-1", "created", tm[1],
      "modified", tm[1])
    redis.call("SADD", t.s, t.name)
  end
end

-- Side data: per-message entries in the queue's meta hash, fields {id}:lr (last receive
-- ms), {id}:err (last error JSON), {id}:dl (dead-letter info JSON), {id}:st (the rc of a
-- delivery fail/nack settled: fenced extensions by it are refused). Our own scripts
-- delete them with the message (remove_message). A plain RSMQ client's delete/pop does
-- not, so entries whose id left the zset are garbage: gc_side() drops them, a bounded
-- HSCAN step per call with the cursor kept in the queue hash (ext:gc; pass it as `cursor`
-- when already read, e.g. by get_queue(hkey, true)). Returns the next cursor and whether
-- the meta hash was seen empty (a whole pass that found no entry).
local function gc_side(hkey, zkey, mkey, count, cursor)
  cursor = cursor or redis.call("HGET", hkey, "ext:gc") or "0"
  local r = redis.call("HSCAN", mkey, cursor, "COUNT", count)
  local fields = r[2]
  for i = 1, #fields, 2 do
    if not redis.call("ZSCORE", zkey, string.sub(fields[i], 1, 32)) then
      redis.call("HDEL", mkey, fields[i])
    end
  end
  if r[1] ~= cursor then
    if r[1] == "0" then
      redis.call("HDEL", hkey, "ext:gc")
    else
      redis.call("HSET", hkey, "ext:gc", r[1])
    end
  end
  return r[1], cursor == "0" and r[1] == "0" and #fields == 0
end

-- The in-flight index (keys.py QueueKeys.in_flight): a zset of the messages django-rsmq
-- received, scored like the queue's zset, so get_queue_attributes counts the ones in flight
-- with one ZCOUNT. Our scripts keep it (receive, change_visibility, delete, quarantine,
-- dead-lettering, purge_expired, purge; nack and fail remove the entry: a message waiting for
-- its retry is delayed, and holds no slot of a concurrency cap, in_flight_cap);
-- a plain RSMQ client's delete, pop or visibility change
-- does not. An entry whose time has passed counts for nothing: receive drops up to 20 such
-- a call (prune_in_flight). The sweep checks 500 entries a step (gc_in_flight) from a rank
-- cursor kept in the queue hash (ext:gcf): an entry whose message is gone or visible again
-- is dropped, one a plain client moved gets its new score.
local function prune_in_flight(fkey, nows)
  local expired = redis.call("ZCOUNT", fkey, "-inf", nows)
  if expired > 0 then
    redis.call("ZREMRANGEBYRANK", fkey, 0, math.min(expired, 20) - 1)
  end
end

-- A capped queue's ext:cap (reliability.py CAP_FIELD) "<max in flight>:<channel>", the
-- channel made by keys.py: the cap and the channel, or nil. A message holds a slot while
-- its in-flight index entry is in the future: receive writes it, change_visibility moves
-- it (the visibility keeper's extensions), ack/delete, nack, fail and dead-lettering
-- remove it, and a killed consumer's entry expires with its visibility timeout.
local function in_flight_cap(raw)
  local n, ch = string.match(raw or "", "^(%d+):(.+)$")
  if not n or tonumber(n) < 1 then
    return nil
  end
  return tonumber(n), ch
end

-- The slots held on the in-flight index `fkey` at `now` (ms): one ZCOUNT, O(log n).
local function slots_held(fkey, now)
  return redis.call("ZCOUNT", fkey, "(" .. int(now), "+inf")
end

-- A script that freed slots of a capped queue (`raw` = its ext:cap) tells the consumers
-- waiting on its channel to look again, as a realtime send does (PUBLISH of the count).
local function cap_freed(raw, zkey)
  local _, ch = in_flight_cap(raw)
  if ch then
    redis.call("PUBLISH", ch, redis.call("ZCARD", zkey))
  end
end

local function gc_in_flight(hkey, zkey, fkey, count, now)
  local cursor = tonumber(redis.call("HGET", hkey, "ext:gcf") or "0") or 0
  local r = redis.call("ZRANGE", fkey, cursor, cursor + count - 1, "WITHSCORES")
  local drop = {}
  for i = 1, #r, 2 do
    local id, score = r[i], tonumber(r[i + 1])
    local s = tonumber(redis.call("ZSCORE", zkey, id) or "")
    if not s or s <= now then
      drop[#drop + 1] = id
    elseif s ~= score then
      redis.call("ZADD", fkey, s, id)
    end
  end
  if #drop > 0 then
    redis.call("ZREM", fkey, unpack(drop))
  end
  local next = cursor + count - #drop
  if #r < 2 * count then
    next = 0
  end
  if next ~= cursor then
    if next == 0 then
      redis.call("HDEL", hkey, "ext:gcf")
    else
      redis.call("HSET", hkey, "ext:gcf", next)
    end
  end
  return next
end

-- Side keys outlive a plain RSMQ client's deleteQueue (it deletes the queue hash and zset
-- only). The failed-records hash and the dedup hash carry, in their field "", the side-data
-- id of the queue they were written for: ext:sid of the queue hash, made (side_stamp) the
-- first time one of them is written. side_check(sid, skey, ...) deletes skey and the keys
-- after it when skey is stamped with another id than the queue's `sid` (the queue was
-- deleted and created again by a peer) and returns whether skey carries `sid` already. An
-- unstamped key is kept (written before stamps existed) and adopted by the next write.
local function side_check(sid, skey, ...)
  local stamp = redis.call("HGET", skey, "")
  if stamp and stamp ~= sid then
    redis.call("DEL", skey, ...)
    return false
  end
  return stamp ~= false
end

-- Stamp side key `skey` (unless `stamped`) with the queue's side-data id `sid`, made from
-- TIME µs `us` and stored in queue hash `hkey` when the queue has none; returns it.
local function side_stamp(hkey, sid, skey, stamped, us)
  if not sid then
    sid = base36(us)
    redis.call("HSET", hkey, "ext:sid", sid)
  end
  if not stamped then
    redis.call("HSET", skey, "", sid)
  end
  return sid
end

-- Realtime (Node rsmq's option): PUBLISH a queue's message count on its channel after a
-- message was added to it, when the calling client has realtime on (`rt`).
local function notify(rt, t)
  if rt and t.c and t.c ~= "" then
    redis.call("PUBLISH", t.c, redis.call("ZCARD", t.z))
  end
end

-- Move message `id` of queue `src` ({name, h, z, m, s, c, rt}) to its dead-letter queue
-- `src.dlq` atomically: the DLQ (auto-created) gets the body under the same id (or
-- under `dest`, then the info keeps the original as `orig`), receivable now with a fresh
-- rc; its meta hash gets {id}:dl with the source queue (as a move target, for redrive),
-- rc, first/last receive, reason and last error.
local function dead_letter(src, id, now, reason, err, dest)
  local t = src.dlq
  ensure_queue(t)
  local f = redis.call("HMGET", src.h, id, id .. ":rc", id .. ":fr")
  local side = redis.call("HMGET", src.m, id .. ":lr", id .. ":err")
  local info = {
    src = { name = src.name, h = src.h, z = src.z, m = src.m, s = src.s, c = src.c },
    rc = tonumber(f[2] or "0"),
    fr = tonumber(f[3] or ""),
    lr = tonumber(side[1] or ""),
    at = now,
    reason = reason,
    err = err or (side[2] and cjson.decode(side[2])) or nil,
  }
  dest = dest or id
  if dest ~= id then
    info.orig = id
  end
  redis.call("ZADD", t.z, int(now), dest)
  redis.call("HSET", t.h, dest, f[1] or "")
  redis.call("HINCRBY", t.h, "totalsent", 1)
  redis.call("HSET", t.m, dest .. ":dl", cjson.encode(info))
  remove_message(src.h, src.z, id, src.m, src.f)
  notify(src.rt, t)
end

-- Whether `id` has RSMQ's id format: 32 characters of [A-Za-z0-9:] (validation.py).
local function valid_id(id)
  return #id == 32 and not string.find(id, "[^0-9A-Za-z:]")
end

-- Whether the ids `ids` are all made of id characters: one scan of their concatenation
-- (far cheaper per id than valid_id(); lengths are checked apart).
local function id_chars(ids)
  return not string.find(table.concat(ids), "[^0-9A-Za-z:]")
end

-- Whether a visible message must not be delivered: past the retention period (dropped or
-- dead-lettered) or already received max_receives times (dead-lettered). Returns true
-- when it was moved/dropped, false when it may be delivered.
local function withheld(src, cfg, id, now)
  if cfg.retention and valid_id(id) then -- an invalid id has no send time: poison()
    local sent = sent_ms_of(id)
    if sent and now - sent >= cfg.retention then
      if cfg.retention_action == "dead_letter" and src.dlq then
        dead_letter(src, id, now, "retention")
      else
        remove_message(src.h, src.z, id, src.m, src.f)
      end
      return true
    end
  end
  if cfg.max_receives and src.dlq then
    local rc = tonumber(redis.call("HGET", src.h, id .. ":rc") or "0")
    if rc and rc >= cfg.max_receives then -- a malformed rc (nil here) is poison()
      dead_letter(src, id, now, "max_receives")
      return true
    end
  end
  return false
end

-- KEYS[1..4] of message scripts as a queue: hash, zset, meta, QUEUES (and KEYS[7], the
-- in-flight index, when given); its name, channel and the client's realtime flag
-- ("1" | "") from ARGV.
local function source(keys, name, cfg, channel, rt)
  return { name = name, h = keys[1], z = keys[2], m = keys[3], s = keys[4], f = keys[7],
    c = channel, rt = rt == "1", dlq = cfg.dlq }
end

-- Apply reliability settings: ARGV[from..] are field, value pairs ("" deletes the field),
-- then the default DLQ (name, target JSON) when max_receives or retention_action
-- dead_letter needs one and none is set; the DLQ is auto-created.
local function apply_config(hkey, argv, from, default_dlq)
  for i = from, #argv, 2 do
    if argv[i + 1] == "" then
      redis.call("HDEL", hkey, argv[i])
    else
      redis.call("HSET", hkey, argv[i], argv[i + 1])
    end
  end
  local a = redis.call("HMGET", hkey, "ext:max_receives", "ext:retention_action", "ext:dlq")
  if (a[1] or a[2] == "dead_letter") and not a[3] then
    local t = cjson.decode(default_dlq)
    redis.call("HSET", hkey, "ext:dlq", t.name, "ext:dlq_target", default_dlq)
  end
  local target = redis.call("HGET", hkey, "ext:dlq_target")
  if target then
    ensure_queue(cjson.decode(target))
  end
end

-- Failed records of a queue: hash {rid} (error JSON as the client sent it), {rid}:m
-- (queue-side JSON: queue, id, rc, at, dead, retry_in), {rid}:b (body); index zset
-- rid -> ms. A log, not message state: capped at failed_cap, older than failed_ttl
-- dropped, and both keys expire failed_ttl after the last failure.
local function drop_records(fkey, ikey, rids)
  for _, rid in ipairs(rids) do
    redis.call("HDEL", fkey, rid, rid .. ":m", rid .. ":b")
    redis.call("ZREM", ikey, rid)
  end
end

local function trim_failed(fkey, ikey, cfg, now)
  drop_records(fkey, ikey, redis.call("ZRANGEBYSCORE", ikey, "-inf",
    "(" .. int(now - cfg.failed_ttl), "LIMIT", 0, 1000))
  local over = redis.call("ZCARD", ikey) - cfg.failed_cap
  if over > 0 then
    drop_records(fkey, ikey, redis.call("ZRANGE", ikey, 0, over - 1))
  end
  if redis.call("EXISTS", ikey) == 1 then
    redis.call("PEXPIRE", fkey, cfg.failed_ttl)
    redis.call("PEXPIRE", ikey, cfg.failed_ttl)
  end
end

-- Poison data (docs/reliability.md "Poison data"): what peers or hand edits can leave that
-- no client can be given as it is. The reason a visible message with body field `body`
-- and rc field `rc` (HMGET values) is poison, or nil: a zset member that is not an RSMQ
-- id, an rc that is not a non-negative integer (RSMQ only ever HINCRBYs it), no body.
-- Receive and pop test the common case inline (a 32-char id whose batch passed
-- id_chars(), no rc or an integer one, a body) and call this only to name the fault.
local function poison(id, body, rc)
  if not valid_id(id) then
    return "invalid_id"
  end
  if rc and not string.find(rc, "^%d+$") then
    return "malformed_rc"
  end
  if not body then
    return "missing_body"
  end
  return nil
end

-- Take poison message `id` (`reason` from poison(), `rc` its rc field) out of the queue of
-- KEYS `keys` (hash, zset, meta, QUEUES, failed records hash, their index) named `name`:
-- to its DLQ when it has one (reason in the dead-letter info; an invalid id gets a fresh
-- id there, the original kept as `orig`), else into a failure record of type
-- PoisonMessage with the reason (unless failed_cap is 0). It leaves the queue either way,
-- so it never blocks the messages behind it nor loops. `tm` is the reply of Redis TIME;
-- `err` (optional: {type, message, traceback}, the client's error) replaces the stock
-- PoisonMessage error. Returns whether it was dead-lettered and the failure record's id
-- ("" for none).
local function quarantine(keys, name, channel, rt, id, reason, rc, now, tm, err)
  local a = redis.call("HMGET", keys[1], "ext:dlq_target", "ext:failed_cap", "ext:failed_ttl")
  if not err then
    local text = "its body field is missing"
    if reason == "invalid_id" then
      text = "a member of the queue's sorted set that is not an RSMQ message id"
    elseif reason == "malformed_rc" then
      text = "its receive count ({id}:rc) is not an integer"
    end
    err = { type = "PoisonMessage", message = reason .. ": " .. text }
  end
  local us = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
  if a[1] then
    local src = { name = name, h = keys[1], z = keys[2], m = keys[3], s = keys[4], f = keys[7],
      c = channel, rt = rt == "1", dlq = cjson.decode(a[1]) }
    local dest = id
    if reason == "invalid_id" then
      local tail = string.sub(redis.sha1hex(id), 1, 22)
      dest = base36(us) .. tail
      while redis.call("ZSCORE", src.dlq.z, dest) do
        us = us + 1
        dest = base36(us) .. tail
      end
    end
    dead_letter(src, id, now, reason, { type = err.type, message = err.message }, dest)
    return true, ""
  end
  local cfg = { failed_cap = tonumber(a[2]) or FAILED_CAP_DEFAULT,
    failed_ttl = a[3] and seconds_to_ms(a[3]) or FAILED_TTL_DEFAULT_MS }
  local rid = ""
  if cfg.failed_cap > 0 then
    rid = base36(us) .. string.sub(redis.sha1hex(reason .. ":" .. id), 1, 22)
    local m = { queue = name, id = id, rc = rc and tonumber(rc) or nil, at = now, dead = false,
      reason = reason }
    redis.call("HSET", keys[5], rid, cjson.encode(err), rid .. ":m", cjson.encode(m),
      rid .. ":b", redis.call("HGET", keys[1], id) or "")
    redis.call("ZADD", keys[6], int(now), rid)
    trim_failed(keys[5], keys[6], cfg, now)
  end
  remove_message(keys[1], keys[2], id, keys[3], keys[7])
  return false, rid
end
