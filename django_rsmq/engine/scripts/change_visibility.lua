-- KEYS: queue hash, queue zset, queue meta, in-flight index (a received message, one
--       with an rc, gets its new score there too; a never received one stays out).
-- ARGV: per message: id, vt ms, receipt rc ("" = by bare id, RSMQ-style).
-- Reply: status, then per message: code, value.
--   by id:      0, 1|0 (0 when the message does not exist, as Node)
--   by receipt: 0, 1 | NO_MESSAGE, 0 | STALE, current rc (also when fail/nack settled
--               that delivery: meta {id}:st = its rc, so a late extension never overrides
--               their delay)
if not get_queue(KEYS[1]) then
  return { NO_QUEUE }
end
local now = now_ms()
local out = { OK }
for i = 1, #ARGV, 3 do
  local id, vt, want = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local code, value = OK, 0
  if not redis.call("ZSCORE", KEYS[2], id) then
    if want ~= "" then
      code = NO_MESSAGE
    end
  else
    if want ~= "" then
      local rc = tonumber(redis.call("HGET", KEYS[1], id .. ":rc") or "0")
      if rc ~= tonumber(want) or redis.call("HGET", KEYS[3], id .. ":st") == want then
        code, value = STALE, rc
      end
    end
    if code == OK then
      redis.call("ZADD", KEYS[2], int(now + vt), id)
      if want ~= "" or redis.call("HEXISTS", KEYS[1], id .. ":rc") == 1 then
        redis.call("ZADD", KEYS[4], int(now + vt), id)
      end
      value = 1
    end
  end
  table.insert(out, code)
  table.insert(out, value)
end
return out
