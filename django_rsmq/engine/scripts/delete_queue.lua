-- KEYS: queue hash, queue zset, QUEUES set, then the queue's side keys (meta, failed
-- records and their index). ARGV: qname.
local n = redis.call("DEL", KEYS[1], KEYS[2])
redis.call("SREM", KEYS[3], ARGV[1])
if #KEYS > 3 then
  redis.call("DEL", unpack(KEYS, 4))
end
if n == 0 then
  return { NO_QUEUE }
end
return { OK }
