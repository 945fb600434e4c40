-- KEYS: DLQ hash, DLQ zset, DLQ meta. ARGV: message ids.
-- Reply: OK, then per id: its {id}:dl JSON, or false when the message is not in the DLQ or
-- came there without django-rsmq's metadata (sent by a plain RSMQ client).
local out = { OK }
for _, id in ipairs(ARGV) do
  local info = false
  if redis.call("ZSCORE", KEYS[2], id) then
    info = redis.call("HGET", KEYS[3], id .. ":dl")
  end
  table.insert(out, info)
end
return out
