-- KEYS: queue hash, queue zset, queue meta, failed records hash, their index.
-- ARGV: "1" to start a new pass at cursor 0.
-- One step of the side-data sweep (gc_side in _lib.lua): drops side entries of messages
-- that left the queue through a plain RSMQ client's delete or pop. The client repeats
-- until the returned cursor is "0". When the queue itself is gone (a plain client's
-- deleteQueue), all its side keys are deleted.
-- Reply: OK, next cursor.
if not get_queue(KEYS[1]) then
  redis.call("DEL", KEYS[3], KEYS[4], KEYS[5])
  return { OK, "0" }
end
if ARGV[1] == "1" then
  redis.call("HDEL", KEYS[1], "ext:gc")
end
return { OK, gc_side(KEYS[1], KEYS[2], KEYS[3], 500) }
