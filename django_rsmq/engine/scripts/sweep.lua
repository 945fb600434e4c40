-- KEYS: queue hash, queue zset, queue meta, failed records hash, their index, dedup hash,
--       its expiry index, counter samples, in-flight index, unique-key hash (keys.py
--       QueueKeys).
-- ARGV: "1" to start a new pass at cursor 0.
-- One step of the side-data sweep: drops side entries of messages that left the queue
-- through a plain RSMQ client's delete or pop (gc_side in _lib.lua), up to 500 expired
-- dedup entries, 500 entries of the in-flight index checked (gc_in_flight: best effort,
-- it does not extend the pass), and (when starting a pass) failure records and dedup
-- entries written for an earlier queue of this name (side_check), and up to 500 sampled
-- unique keys whose message left the queue (HRANDFIELD: a full pass may leave some for
-- the next; send.lua overwrites such an entry anyway). The client repeats
-- until the returned cursor is "0". When the queue itself is gone (a plain client's deleteQueue), all its
-- side keys are deleted.
-- Reply: OK, next cursor.
if not get_queue(KEYS[1]) then
  redis.call("DEL", KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10])
  return { OK, "0" }
end
if ARGV[1] == "1" then
  redis.call("HDEL", KEYS[1], "ext:gc")
  local sid = redis.call("HGET", KEYS[1], "ext:sid")
  side_check(sid, KEYS[4], KEYS[5])
  side_check(sid, KEYS[6], KEYS[7])
end
local now = now_ms()
local expired = redis.call("ZRANGEBYSCORE", KEYS[7], "-inf", int(now), "LIMIT", 0, 500)
if #expired > 0 then
  redis.call("HDEL", KEYS[6], unpack(expired))
  redis.call("ZREM", KEYS[7], unpack(expired))
end
gc_in_flight(KEYS[1], KEYS[2], KEYS[9], 500, now)
local held = redis.call("HRANDFIELD", KEYS[10], 500, "WITHVALUES")
local gone = {}
for i = 1, #held, 2 do
  if redis.call("HEXISTS", KEYS[1], held[i + 1]) == 0 then
    gone[#gone + 1] = held[i]
  end
end
if #gone > 0 then
  redis.call("HDEL", KEYS[10], unpack(gone))
end
local cursor = gc_side(KEYS[1], KEYS[2], KEYS[3], 500)
if cursor == "0" and #expired == 500 then
  cursor = "dedup" -- more expired dedup entries: another step (a new pass of gc_side)
end
return { OK, cursor }
