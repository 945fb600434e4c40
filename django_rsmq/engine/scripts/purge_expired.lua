-- KEYS: queue hash, queue zset, queue meta, QUEUES set, in-flight index (a message in
--       flight past retention leaves it too). ARGV: qname, ZSCAN cursor, its realtime
--       channel, realtime "1" | "".
-- One bounded step over the queue: messages past the retention period are dropped or
-- dead-lettered (retention_action), exactly as receive.lua would. The client repeats
-- with the returned cursor until it is "0".
-- Reply: OK, next cursor, number of messages dropped or dead-lettered in this step.
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local cfg = q.cfg
if not cfg.retention then
  return { OK, "0", 0 }
end
local now = now_ms()
local src = source(KEYS, ARGV[1], cfg, ARGV[3], ARGV[4])
src.f = KEYS[5]
cfg.max_receives = nil -- only retention applies here
local r = redis.call("ZSCAN", KEYS[2], ARGV[2], "COUNT", 500)
local n = 0
local page = r[2]
for i = 1, #page, 2 do
  local id = page[i]
  local sent = sent_ms_of(id)
  if sent and now - sent >= cfg.retention and redis.call("ZSCORE", KEYS[2], id) then
    if withheld(src, cfg, id, now) then
      n = n + 1
    end
  end
end
return { OK, r[1], n }
