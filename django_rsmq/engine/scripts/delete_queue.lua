-- KEYS: queue hash, queue zset, QUEUES set, then the queue's side keys (keys.py
--       QueueKeys.side_keys: meta, failed records and their index, dedup hash and its
--       index, counter samples). ARGV: qname.
-- Deletes the queue and every key of it in one step: nothing of it is left.
local n = redis.call("DEL", KEYS[1], KEYS[2])
redis.call("SREM", KEYS[3], ARGV[1])
if #KEYS > 3 then
  redis.call("DEL", unpack(KEYS, 4))
end
if n == 0 then
  return { NO_QUEUE }
end
return { OK }
