-- KEYS: queue hash, queue zset, queue meta (its side entries go with the message).
-- ARGV: per message: id, receipt rc ("" = delete by bare id, RSMQ's deleteMessage).
-- Reply: status, then per message: code, value.
--   by id:      0, 1|0 (1 iff ZREM removed it and HDEL removed a field, as Node)
--   by receipt: 0, 1 | NO_MESSAGE, 0 | STALE, current rc  (fenced on rc)
local out = { OK }
for i = 1, #ARGV, 2 do
  local id, want = ARGV[i], ARGV[i + 1]
  local code, value = OK, 0
  if want ~= "" then
    if not redis.call("ZSCORE", KEYS[2], id) then
      code = NO_MESSAGE
    else
      local rc = tonumber(redis.call("HGET", KEYS[1], id .. ":rc") or "0")
      if rc ~= tonumber(want) then
        code, value = STALE, rc
      end
    end
  end
  if code == OK then
    local z, h = remove_message(KEYS[1], KEYS[2], id, KEYS[3])
    if z == 1 and h > 0 then
      value = 1
    end
  end
  table.insert(out, code)
  table.insert(out, value)
end
return out
