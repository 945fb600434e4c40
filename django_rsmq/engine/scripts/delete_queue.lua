-- KEYS: queue hash, queue zset, QUEUES set. ARGV: qname.
local n = redis.call("DEL", KEYS[1], KEYS[2])
redis.call("SREM", KEYS[3], ARGV[1])
if n == 0 then
  return { NO_QUEUE }
end
return { OK }
