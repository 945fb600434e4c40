-- KEYS: queue hash, queue zset. ARGV: offset, limit, id ("" = page through the queue).
-- Non-destructive: reads only, never touches rc, fr, visibility or counters.
-- Reply: status, now_ms, then id, visible_at_ms, body, rc, fr for each message,
-- in visibility order (zset score, ties by id).
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local now = now_ms()
local flat
if ARGV[3] ~= "" then
  local score = redis.call("ZSCORE", KEYS[2], ARGV[3])
  if not score then
    return { NO_MESSAGE }
  end
  flat = { ARGV[3], score }
else
  local first = tonumber(ARGV[1])
  flat = redis.call("ZRANGE", KEYS[2], first, first + tonumber(ARGV[2]) - 1, "WITHSCORES")
end
local out = { OK, int(now) }
for i = 1, #flat, 2 do
  local id = flat[i]
  local f = redis.call("HMGET", KEYS[1], id, id .. ":rc", id .. ":fr")
  table.insert(out, id)
  table.insert(out, flat[i + 1])
  table.insert(out, f[1] or false)
  table.insert(out, f[2] or "0")
  table.insert(out, f[3] or false)
end
return out
