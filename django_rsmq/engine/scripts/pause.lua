-- KEYS: queue hash, queue zset.
-- ARGV: "1" to pause, "0" to resume; the queue's realtime channel.
-- Pausing sets ext:paused = "1" in the queue hash: our receive and pop deliver nothing
-- from the queue and next_due reports nothing due, while sends go on as before (plain
-- RSMQ clients ignore the field: a Node rsmq or PyRSMQ consumer still receives). Resuming
-- clears it and publishes the queue's message count on its realtime channel, as a send
-- does, so long polls waiting on the queue look again at once.
-- Reply: status, 1 if the state changed (0: it was so already).
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local changed
if ARGV[1] == "1" then
  changed = redis.call("HSETNX", KEYS[1], "ext:paused", "1")
else
  changed = redis.call("HDEL", KEYS[1], "ext:paused")
  redis.call("PUBLISH", ARGV[2], redis.call("ZCARD", KEYS[2]))
end
return { OK, changed }
