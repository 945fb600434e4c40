-- KEYS: queue hash, failed records hash, their index.
-- ARGV: offset, limit, exception type ("" = any), search text, lowercased ("" = any; a
--       plain substring of the lowercased type, message or traceback), record id ("" =
--       page through the records, newest first), message id ("" = any: only the records
--       of that message), since / until ms ("" = open; failed_at in [since, until]),
--       group "1" | "" (instead of a page: the number of records per exception type).
-- Drops records past failed_ttl first, and all records when they were written for an
-- earlier queue of this name (side_check in _lib.lua).
-- Reply: OK, total matching, then per record on the page: id, error JSON, queue-side JSON,
-- body | OK, total, then type, count per exception type (group) | NO_MESSAGE (record id
-- not found).
local q = get_queue(KEYS[1], true)
if not q then
  return { NO_QUEUE }
end
local now = now_ms()
side_check(redis.call("HGET", KEYS[1], "ext:sid"), KEYS[2], KEYS[3])
trim_failed(KEYS[2], KEYS[3], q.cfg, now)
local function record(out, rid)
  local f = redis.call("HMGET", KEYS[2], rid, rid .. ":m", rid .. ":b")
  table.insert(out, rid)
  table.insert(out, f[1] or "{}")
  table.insert(out, f[2] or "{}")
  table.insert(out, f[3] or "")
end
if ARGV[5] ~= "" then
  if not redis.call("ZSCORE", KEYS[3], ARGV[5]) then
    return { NO_MESSAGE }
  end
  local out = { OK, 1 }
  record(out, ARGV[5])
  return out
end
local first, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local etype, search, mid = ARGV[3], ARGV[4], ARGV[6] or ""
local lo, hi = ARGV[7] or "", ARGV[8] or ""
local group = ARGV[9] == "1"
lo = lo == "" and "-inf" or lo
hi = hi == "" and "+inf" or hi
local out = { OK, 0 }
if etype == "" and search == "" and mid == "" and not group then
  if lo == "-inf" and hi == "+inf" then
    out[2] = redis.call("ZCARD", KEYS[3])
    for _, rid in ipairs(redis.call("ZREVRANGE", KEYS[3], first, first + limit - 1)) do
      record(out, rid)
    end
    return out
  end
  out[2] = redis.call("ZCOUNT", KEYS[3], lo, hi)
  for _, rid in ipairs(redis.call("ZREVRANGEBYSCORE", KEYS[3], hi, lo, "LIMIT", first, limit)) do
    record(out, rid)
  end
  return out
end
-- Filtered: walk every record in the time range (at most failed_cap), newest first.
local total, counts, order = 0, {}, {}
for _, rid in ipairs(redis.call("ZREVRANGEBYSCORE", KEYS[3], hi, lo)) do
  local e = cjson.decode(redis.call("HGET", KEYS[2], rid) or "{}")
  local ok = etype == "" or e.type == etype
  if ok and mid ~= "" then
    ok = cjson.decode(redis.call("HGET", KEYS[2], rid .. ":m") or "{}").id == mid
  end
  if ok and search ~= "" then
    local text = string.lower(tostring(e.type or "") .. "\n" .. tostring(e.message or "")
      .. "\n" .. tostring(e.traceback or ""))
    ok = string.find(text, search, 1, true) ~= nil
  end
  if ok then
    if group then
      local t = tostring(e.type or "")
      if not counts[t] then
        counts[t] = 0
        order[#order + 1] = t
      end
      counts[t] = counts[t] + 1
    elseif total >= first and total < first + limit then
      record(out, rid)
    end
    total = total + 1
  end
end
out[2] = total
if group then
  for _, t in ipairs(order) do
    out[#out + 1] = t
    out[#out + 1] = counts[t]
  end
end
return out
