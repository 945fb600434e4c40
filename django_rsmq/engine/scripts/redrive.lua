-- The one redrive script (engine/redrive.py builds every call to it).
-- KEYS[1..3]: the source: a DLQ's hash, zset, meta ("dlq" mode) or a queue's failed
--             records hash, index and (unused) meta ("failed" mode).
-- KEYS[4..7]: the destination's hash, zset, meta, QUEUES; absent in "dlq" mode to send each
--             message back to the queue it was dead-lettered from (its {id}:dl info).
-- ARGV: mode "dlq" | "failed", reset rc "1" | "", limit, realtime "1" | "", the
--       destination's realtime channel (with KEYS[4..7]), fallback "1" | "" (in "dlq"
--       mode: KEYS[4..7] only for messages without {id}:dl info or whose home queue is
--       gone; the others go home), guard "1" | "" (in "failed" mode: skip a record whose
--       message is in the destination queue or its DLQ, was requeued already or acked
--       after failing: the lifecycle rule of engine/triage.py, checked again atomically),
--       then source ids (none = the oldest `limit`).
-- Each id is checked and moved in this one script, so when redrives race every message
-- moves exactly once; the loser reports it missing. A DLQ message keeps its id and body
-- and (unless reset) its rc and first-receive time; a failed record's body is sent as a
-- new message (and "rq:{message id}" = the new id goes into the failed records hash, so
-- the message's other records show it was requeued). Moved messages are receivable at once.
-- Reply: OK, then per source id: id, destination id | id, false (missing / no destination).
local mode, reset, rt = ARGV[1], ARGV[2] == "1", ARGV[4] == "1"
local ids = {}
local fallback = ARGV[6] == "1"
local guard = ARGV[7] == "1"
if #ARGV > 7 then
  for i = 8, #ARGV do
    table.insert(ids, ARGV[i])
  end
else
  local limit = tonumber(ARGV[3])
  ids = redis.call("ZRANGE", KEYS[2], 0, limit - 1)
end
local given
if #KEYS >= 7 then
  given = { h = KEYS[4], z = KEYS[5], m = KEYS[6], s = KEYS[7], c = ARGV[5] }
end
local now, t = now_ms()
local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out, n = { OK }, 0

local function deliver(dest, id, body)
  redis.call("ZADD", dest.z, int(now), id)
  redis.call("HSET", dest.h, id, body)
  redis.call("HINCRBY", dest.h, "totalsent", 1)
  notify(rt, dest)
end

-- Whether message `id` of failure records in hash `fkey` must not be requeued to `dest`:
-- still in it or in its DLQ, requeued already, or acked after failing.
local function settled(dest, fkey, id)
  if redis.call("ZSCORE", dest.z, id) then
    return true
  end
  local target = redis.call("HGET", dest.h, "ext:dlq_target")
  if target and redis.call("ZSCORE", cjson.decode(target).z, id) then
    return true
  end
  return redis.call("HEXISTS", fkey, "rq:" .. id) == 1 or redis.call("HEXISTS", fkey, "ok:" .. id) == 1
end

for _, sid in ipairs(ids) do
  local moved = false
  if mode == "dlq" then
    if redis.call("ZSCORE", KEYS[2], sid) then
      local raw = redis.call("HGET", KEYS[3], sid .. ":dl")
      local info = raw and cjson.decode(raw) or nil
      local dest = (not fallback and given) or (info and info.src) or given
      if fallback and dest ~= given and not get_queue(dest.h) then
        dest = given -- its home queue was deleted meanwhile
      end
      if dest and get_queue(dest.h) and not redis.call("ZSCORE", dest.z, sid) then
        deliver(dest, sid, redis.call("HGET", KEYS[1], sid) or "")
        if info and not reset and info.rc and info.rc > 0 then
          redis.call("HSET", dest.h, sid .. ":rc", int(info.rc))
          if info.fr then
            redis.call("HSET", dest.h, sid .. ":fr", int(info.fr))
          end
        end
        remove_message(KEYS[1], KEYS[2], sid, KEYS[3])
        moved = sid
      end
    end
  elseif redis.call("ZSCORE", KEYS[2], sid) then
    local dest = given
    if dest and get_queue(dest.h) then
      local rec = redis.call("HMGET", KEYS[1], sid .. ":b", sid .. ":m")
      local ok, m = pcall(cjson.decode, rec[2] or "{}")
      local of = (ok and type(m) == "table" and type(m.id) == "string") and m.id or ""
      if not (guard and of ~= "" and settled(dest, KEYS[1], of)) then
        local mid = base36(us + n) .. string.sub(sid, 11)
        n = n + 1
        deliver(dest, mid, rec[1] or "")
        -- the other records of that message now say "requeued" (engine/triage.py)
        if of ~= "" then
          redis.call("HSET", KEYS[1], "rq:" .. of, mid)
        end
        drop_records(KEYS[1], KEYS[2], { sid })
        moved = mid
      end
    end
  end
  table.insert(out, sid)
  table.insert(out, moved)
end
return out
