-- KEYS: queue hash. ARGV: field, value, field, value, ... (vt/delay/maxsize).
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local t = redis.call("TIME")
redis.call("HSET", KEYS[1], "modified", t[1], unpack(ARGV))
return { OK }
