-- KEYS: per queue: queue hash, queue zset, in-flight index.
-- Read-only: when does each queue next have a receivable message? Long polls sleep until then.
-- A rate-limited queue's next receivable time is no earlier than its next token; a capped
-- queue whose slots are all held, no earlier than the first of them to expire (an ack,
-- nack or fail that frees one publishes on the queue's channel: in_flight_cap).
-- Reply: status, now_ms, then per queue: the score (epoch ms) of the zset head, i.e. when
-- its earliest delayed or hidden message becomes receivable (<= now: receivable already),
-- false for an empty or paused queue, -1 when the queue does not exist, or "!" and Redis' error
-- when its keys cannot be read (a key of the wrong type): one deleted or broken queue is
-- reported, never an error for the whole call.
local now = now_ms()
local out = { OK, int(now) }
for i = 1, #KEYS, 3 do
  local a = redis.pcall("HMGET", KEYS[i], "vt", "delay", "maxsize", "ext:paused", "ext:rate",
    "ext:rl", "ext:cap")
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
    elseif head[2] and (a[5] or a[7]) then
      local due = tonumber(head[2])
      local tokens, per_ms
      if a[5] then
        tokens, per_ms = rate_tokens(a[5], a[6], now)
      end
      if tokens and tokens < 1 then
        -- rate-limited: nothing starts before the bucket holds a whole token again
        due = math.max(due, now + math.ceil((1 - tokens) / per_ms))
      end
      local cap = in_flight_cap(a[7])
      if cap and slots_held(KEYS[i + 2], now) >= cap then
        -- capped and full: the first slot comes back when its lease expires
        local first = redis.call("ZRANGEBYSCORE", KEYS[i + 2], "(" .. int(now), "+inf",
          "WITHSCORES", "LIMIT", 0, 1)
        if first[2] then
          due = math.max(due, tonumber(first[2]))
        end
      end
      table.insert(out, int(due))
    else
      table.insert(out, head[2] or false)
    end
  end
end
return out
