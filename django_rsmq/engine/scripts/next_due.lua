-- KEYS: per queue: queue hash, queue zset.
-- Read-only: when does each queue next have a receivable message? Long polls sleep until then.
-- Reply: status, now_ms, then per queue: the score (epoch ms) of the zset head, i.e. when
-- its earliest delayed or hidden message becomes receivable (<= now: receivable already),
-- false for an empty queue, -1 when the queue does not exist.
local now = now_ms()
local out = { OK, int(now) }
for i = 1, #KEYS, 2 do
  if not get_queue(KEYS[i]) then
    table.insert(out, -1)
  else
    local head = redis.call("ZRANGE", KEYS[i + 1], 0, 0, "WITHSCORES")
    table.insert(out, head[2] or false)
  end
end
return out
