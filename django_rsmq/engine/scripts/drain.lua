-- KEYS: queue hash, queue zset, queue meta, in-flight index. ARGV: count.
-- One bounded step of emptying a queue (a dead-letter queue's "purge all"): removes its
-- `count` oldest messages with their side data, so no single call blocks Redis for long
-- however big the queue; the caller repeats until the reply says 0. Each step is atomic,
-- so a run cut short (a crash, a timeout) leaves whole messages and a rerun finishes.
-- Reply: OK, messages removed, messages left | NO_QUEUE.
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local ids = redis.call("ZRANGE", KEYS[2], 0, tonumber(ARGV[1]) - 1)
if #ids > 0 then
  local fields, side = {}, {}
  for _, id in ipairs(ids) do
    fields[#fields + 1] = id
    fields[#fields + 1] = id .. ":rc"
    fields[#fields + 1] = id .. ":fr"
    side[#side + 1] = id .. ":lr"
    side[#side + 1] = id .. ":err"
    side[#side + 1] = id .. ":dl"
    side[#side + 1] = id .. ":st"
  end
  redis.call("HDEL", KEYS[1], unpack(fields))
  redis.call("HDEL", KEYS[3], unpack(side))
  redis.call("ZREM", KEYS[2], unpack(ids))
  redis.call("ZREM", KEYS[4], unpack(ids))
end
return { OK, #ids, redis.call("ZCARD", KEYS[2]) }
