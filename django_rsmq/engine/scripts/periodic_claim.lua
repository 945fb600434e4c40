-- KEYS: the schedule ledger hash (keys.py Keys.schedule).
-- ARGV: entry name, tick (epoch ms), owner (a consumer name), lease ms.
-- Claims one tick of a periodic entry for `owner`, so that however many consumers see the
-- tick due, one sends its message: a tick at or before the entry's last handled tick
-- ("{name}:tick") is done; a tick claimed by another owner whose lease has not expired
-- is taken. Otherwise the claim "{tick}:{owner}:{expiry ms}" is written and the caller
-- sends, then calls periodic_done.lua. A claimant that dies leaves its claim to expire:
-- the next consumer claims the tick again and sends with the same de-duplication id
-- (django_rsmq/periodic/ticker.py), so the tick is sent once as long as the queue's dedup
-- window outlasts the lease (check django_rsmq.W030).
-- Reply: 1 claimed | 0 done already | -1 claimed by another owner. Times are Redis TIME.
local name, tick, owner = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local a = redis.call("HMGET", KEYS[1], name .. ":tick", name .. ":claim")
if a[1] and tonumber(a[1]) >= tick then
  return 0
end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if a[2] then
  local ctick, cowner, expiry = string.match(a[2], "^(%d+):(.*):(%d+)$")
  if ctick and tonumber(ctick) == tick and cowner ~= owner and tonumber(expiry) > now then
    return -1
  end
end
redis.call("HSET", KEYS[1], name .. ":claim",
  string.format("%d:%s:%d", tick, owner, now + tonumber(ARGV[4])))
return 1
