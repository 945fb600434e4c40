-- KEYS: queue hash, QUEUES set, then the queue's side keys (keys.py QueueKeys.side_keys:
--       meta, failed records and their index, dedup hash and its index, counter samples).
-- ARGV: qname, vt (s), delay (s), maxsize, default DLQ target (JSON, keys.py), then
--       reliability field/value pairs.
-- Unlike Node's MULTI of HSETNX, nothing is written when the queue exists.
if redis.call("HEXISTS", KEYS[1], "vt") == 1 then
  return { QUEUE_EXISTS }
end
local t = redis.call("TIME")
redis.call("HSET", KEYS[1], "vt", ARGV[2], "delay", ARGV[3], "maxsize", ARGV[4],
  "created", t[1], "modified", t[1])
redis.call("SADD", KEYS[2], ARGV[1])
-- Side data left by an earlier queue of this name that a plain client deleted.
if #KEYS > 2 then
  redis.call("DEL", unpack(KEYS, 3))
end
apply_config(KEYS[1], ARGV, 6, ARGV[5])
return { OK }
