-- KEYS: queue hash, queue zset, queue meta, in-flight index. ARGV: limit ("" or none = all).
-- Deletes messages (and all per-message side data), keeps the queue, its settings and its
-- counters. Without a limit it deletes every message in one call (RSMQ's behaviour; blocks
-- Redis for the whole queue). With one it deletes at most ``limit`` messages from the head,
-- each with its side entries, so every call leaves a consistent queue and a caller can
-- loop until ``remaining`` is 0 (a crash between calls loses nothing that was not deleted).
-- Reply: status, number of messages removed, messages remaining.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local limit = tonumber(ARGV[1] or "")
local removed = 0
while true do
  local take = 500
  if limit then
    take = math.min(take, limit - removed)
  end
  if take <= 0 then
    break
  end
  local ids = redis.call("ZRANGE", KEYS[2], 0, take - 1)
  if #ids == 0 then
    break
  end
  local side = {}
  for _, id in ipairs(ids) do
    redis.call("HDEL", KEYS[1], id, id .. ":rc", id .. ":fr")
    if limit then
      side[#side + 1] = id .. ":lr"
      side[#side + 1] = id .. ":err"
      side[#side + 1] = id .. ":dl"
      side[#side + 1] = id .. ":st"
    end
  end
  redis.call("ZREM", KEYS[2], unpack(ids))
  if limit then
    redis.call("HDEL", KEYS[3], unpack(side))
    redis.call("ZREM", KEYS[4], unpack(ids))
  end
  removed = removed + #ids
end
local remaining = redis.call("ZCARD", KEYS[2])
if remaining == 0 then
  redis.call("DEL", KEYS[3], KEYS[4])
  redis.call("HDEL", KEYS[1], "ext:gc")
end
return { OK, removed, remaining }
