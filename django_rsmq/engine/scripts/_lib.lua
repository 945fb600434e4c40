-- django-rsmq shared Lua helpers, prepended to every script at load time.
-- Status codes returned as the first element of every reply (see engine/protocol.py):
--   0 ok, 1 empty, -1 queue not found, -2 queue exists, -3 message too long,
--   -4 message not found, -5 stale receipt
local OK, EMPTY, NO_QUEUE, QUEUE_EXISTS, TOO_LONG, NO_MESSAGE, STALE = 0, 1, -1, -2, -3, -4, -5

-- Integer to decimal string without exponent notation (Lua prints 14 significant digits).
local function int(n)
  return string.format("%d", n)
end

-- Redis TIME as epoch milliseconds (floored, like RSMQ) plus the raw reply.
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), t
end

-- Seconds as stored by any RSMQ client ("30", or PyRSMQ's "1.5") to milliseconds.
local function seconds_to_ms(v)
  return math.floor((tonumber(v) or 0) * 1000 + 0.5)
end

-- The queue's vt/delay in ms and maxsize, or nil when the queue does not exist.
-- A queue exists for RSMQ when vt, delay and maxsize are all present.
local function get_queue(hkey)
  local a = redis.call("HMGET", hkey, "vt", "delay", "maxsize")
  if not a[1] or not a[2] or not a[3] then
    return nil
  end
  return { vt = seconds_to_ms(a[1]), delay = seconds_to_ms(a[2]), maxsize = tonumber(a[3]) or -1 }
end

local B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

-- Non-negative integer (exact below 2^53) to lowercase base 36, like Number#toString(36).
local function base36(n)
  if n == 0 then
    return "0"
  end
  local out = {}
  while n > 0 do
    local d = n % 36
    table.insert(out, 1, string.sub(B36, d + 1, d + 1))
    n = (n - d) / 36
  end
  return table.concat(out)
end

-- Remove a message's RSMQ data: zset member and the three hash fields.
-- Returns ZREM's and HDEL's counts (RSMQ's deleteMessage reports both).
local function remove_message(hkey, zkey, id)
  local z = redis.call("ZREM", zkey, id)
  local h = redis.call("HDEL", hkey, id, id .. ":rc", id .. ":fr")
  return z, h
end
