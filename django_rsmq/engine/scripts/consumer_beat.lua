-- KEYS: the consumer's record hash (Keys.consumer(name)), the consumers sorted set
--       (Keys.consumers), the hash of what stays known after a record expired
--       (Keys.consumers_static).
-- ARGV: consumer name, record ttl ms, JSON object of the record's static fields (host,
--       pid, queues), then field, value pairs of the record.
-- A consumer's heartbeat, timed by Redis TIME (not the consumer host's clock, which may
-- be skewed against the other hosts that read and prune the registry): writes the
-- fields plus "heartbeat" (epoch seconds) and, on a new record, "started"; pushes the
-- record's expiry ttl ahead; scores the name in the sorted set by the heartbeat (ms);
-- keeps the static fields plus "started" under the name in KEYS[3], so that a consumer
-- that died without unregistering still shows its host, pid and queues.
-- Reply: the heartbeat in ms.
local t = redis.call("TIME")
local beat_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local beat_s = t[1] .. "." .. string.format("%06d", tonumber(t[2]))
if redis.call("EXISTS", KEYS[1]) == 0 then
  redis.call("HSET", KEYS[1], "started", beat_s)
end
local fields = { "heartbeat", beat_s }
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call("HSET", KEYS[1], unpack(fields))
redis.call("PEXPIRE", KEYS[1], tonumber(ARGV[2]))
redis.call("ZADD", KEYS[2], beat_ms, ARGV[1])
local static = cjson.decode(ARGV[3])
static["started"] = redis.call("HGET", KEYS[1], "started")
redis.call("HSET", KEYS[3], ARGV[1], cjson.encode(static))
return beat_ms
