-- KEYS: per queue: queue hash, queue zset.
-- Read-only: when does each queue next have a receivable message? Long polls sleep until then.
-- Reply: status, now_ms, then per queue: the score (epoch ms) of the zset head, i.e. when
-- its earliest delayed or hidden message becomes receivable (<= now: receivable already),
-- false for an empty or paused queue, -1 when the queue does not exist, or "!" and Redis' error
-- when its keys cannot be read (a key of the wrong type): one deleted or broken queue is
-- reported, never an error for the whole call.
local now = now_ms()
local out = { OK, int(now) }
for i = 1, #KEYS, 2 do
  local a = redis.pcall("HMGET", KEYS[i], "vt", "delay", "maxsize", "ext:paused")
  if a.err then
    table.insert(out, "!" .. a.err)
  elseif not a[1] or not a[2] or not a[3] then
    table.insert(out, -1)
  elseif a[4] == "1" then
    table.insert(out, false) -- paused: nothing is due until resume.lua's notification
  else
    local head = redis.pcall("ZRANGE", KEYS[i + 1], 0, 0, "WITHSCORES")
    if head.err then
      table.insert(out, "!" .. head.err)
    else
      table.insert(out, head[2] or false)
    end
  end
end
return out
