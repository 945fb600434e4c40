-- KEYS: per queue: queue hash, queue zset.
-- Read-only: when does each queue next have a receivable message? Long polls sleep until then.
-- A rate-limited queue's next receivable time is no earlier than its next token.
-- Reply: status, now_ms, then per queue: the score (epoch ms) of the zset head, i.e. when
-- its earliest delayed or hidden message becomes receivable (<= now: receivable already),
-- false for an empty or paused queue, -1 when the queue does not exist, or "!" and Redis' error
-- when its keys cannot be read (a key of the wrong type): one deleted or broken queue is
-- reported, never an error for the whole call.
local now = now_ms()
local out = { OK, int(now) }
for i = 1, #KEYS, 2 do
  local a = redis.pcall("HMGET", KEYS[i], "vt", "delay", "maxsize", "ext:paused", "ext:rate",
    "ext:rl")
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
    elseif head[2] and a[5] then
      -- rate-limited: nothing starts before the bucket holds a whole token again
      local due = tonumber(head[2])
      local tokens, per_ms = rate_tokens(a[5], a[6], now)
      if tokens and tokens < 1 then
        due = math.max(due, now + math.ceil((1 - tokens) / per_ms))
      end
      table.insert(out, int(due))
    else
      table.insert(out, head[2] or false)
    end
  end
end
return out
