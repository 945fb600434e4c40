-- KEYS: the consumers sorted set (Keys.consumers), the static fields hash
--       (Keys.consumers_static), then the record hash of each candidate (Keys.consumer).
-- ARGV: the candidates' names, in the order of their records in KEYS[3..].
-- Forgets stale consumers: a candidate whose record no longer exists (it expired: the
-- consumer died or lost Redis without unregistering) leaves the sorted set and the
-- static hash; one that beat again meanwhile is kept. Atomic, so a consumer that comes
-- back between the listing and this call is never forgotten.
-- Reply: the number of consumers forgotten.
local n = 0
for i = 1, #ARGV do
  if redis.call("EXISTS", KEYS[i + 2]) == 0 then
    n = n + redis.call("ZREM", KEYS[1], ARGV[i])
    redis.call("HDEL", KEYS[2], ARGV[i])
  end
end
return n
