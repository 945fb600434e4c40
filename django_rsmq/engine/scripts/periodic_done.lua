-- KEYS: the schedule ledger hash (keys.py Keys.schedule).
-- ARGV: entry name, tick (epoch ms), owner, message id ("" = the tick was skipped, nothing
--       sent), kind ("tick" | "manual").
-- Records a handled tick: "{name}:tick" moves forward to `tick` (never back), and the
-- claim of `owner` is released. With a message id, "{name}:sent" (Redis TIME, ms) and
-- "{name}:id" record the send. Kind "manual" (a "run now") records "{name}:manual" =
-- "<ms>:<id>" only and leaves the ticks alone.
-- Reply: 1.
local name, tick, owner, id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local t = redis.call("TIME")
local now = string.format("%d", tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if ARGV[5] == "manual" then
  redis.call("HSET", KEYS[1], name .. ":manual", now .. ":" .. id)
  return 1
end
local last = tonumber(redis.call("HGET", KEYS[1], name .. ":tick"))
if not last or last < tick then
  redis.call("HSET", KEYS[1], name .. ":tick", ARGV[2])
end
if id ~= "" then
  redis.call("HSET", KEYS[1], name .. ":sent", now, name .. ":id", id)
end
local claim = redis.call("HGET", KEYS[1], name .. ":claim")
if claim then
  local ctick, cowner = string.match(claim, "^(%d+):(.*):%d+$")
  if cowner == owner and tonumber(ctick) <= tick then
    redis.call("HDEL", KEYS[1], name .. ":claim")
  end
end
return 1
