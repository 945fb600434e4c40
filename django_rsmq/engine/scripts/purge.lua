-- KEYS: queue hash, queue zset, queue meta, in-flight index. Deletes every message (and all per-message
-- side data), keeps the queue, its settings and its counters.
-- Reply: status, number of messages removed.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local removed = 0
while true do
  local ids = redis.call("ZRANGE", KEYS[2], 0, 499)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    redis.call("HDEL", KEYS[1], id, id .. ":rc", id .. ":fr")
  end
  redis.call("ZREM", KEYS[2], unpack(ids))
  removed = removed + #ids
end
redis.call("DEL", KEYS[3], KEYS[4])
redis.call("HDEL", KEYS[1], "ext:gc")
return { OK, removed }
