-- KEYS: queue hash. ARGV: number of RSMQ pairs n, then n field/value pairs
-- (vt/delay/maxsize), then the default DLQ target (JSON, keys.py), then reliability
-- field/value pairs ("" deletes the field).
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local t = redis.call("TIME")
local n = tonumber(ARGV[1])
redis.call("HSET", KEYS[1], "modified", t[1], unpack(ARGV, 2, 1 + 2 * n))
apply_config(KEYS[1], ARGV, 3 + 2 * n, ARGV[2 + 2 * n])
return { OK }
