-- KEYS: the series' minute ring, its hour ring (Keys.history(series, "m" / "h"), fixed-size
--       strings of ARGV[1]-byte slots: engine/history.py).
-- ARGV: slot size in bytes, minute ring length in slots, minute stamp (4 bytes), byte
--       offset of the minute slot, hour ring length, hour stamp (4 bytes), offset of the
--       hour slot, the record after its stamp (slot size - 4 bytes), minute ring ttl ms,
--       hour ring ttl ms.
-- One history sample, written at most once per minute (and per hour) however many
-- writers race: a slot is written only when its stamp is not the given one already, so
-- the first writer of a minute wins and the others change nothing. A ring is created at
-- its full length (SETRANGE on a missing key allocates exactly that), so it never grows
-- and its memory is fixed: slots x slot size.
-- Reply: { minute written (1/0), hour written (1/0) }.
local size = tonumber(ARGV[1])
local function put(key, slots, stamp, offset, ttl)
  if redis.call("STRLEN", key) < slots * size then
    redis.call("SETRANGE", key, slots * size - 1, "\0")
  elseif redis.call("GETRANGE", key, offset, offset + 3) == stamp then
    return 0
  end
  redis.call("SETRANGE", key, offset, stamp .. ARGV[8])
  redis.call("PEXPIRE", key, ttl)
  return 1
end
return { put(KEYS[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[9])),
  put(KEYS[2], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[10])) }
