-- KEYS: failed records hash, their index. ARGV: record ids (none = all).
-- Reply: OK, number of records deleted.
if #ARGV == 0 then
  local n = redis.call("ZCARD", KEYS[2])
  redis.call("UNLINK", KEYS[1], KEYS[2]) -- freed in the background: a 100k-record cap is no stall
  return { OK, n }
end
local n = 0
for _, rid in ipairs(ARGV) do
  if redis.call("ZSCORE", KEYS[2], rid) then
    n = n + 1
    drop_records(KEYS[1], KEYS[2], { rid })
  end
end
return { OK, n }
