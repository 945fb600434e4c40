-- KEYS: queue hash, queue zset, in-flight index, failed records hash, queue meta.
-- ARGV: message ids (of failure records; read-only, one call per page of records).
-- Where each message is now, for the failure-record lifecycle (engine/triage.py): in the
-- queue (in flight: received and its delivery not settled by a fail or nack, {id}:st; else
-- waiting, visible or delayed), in the
-- queue's dead-letter queue (its ext:dlq_target), requeued from a record ("rq:{id}" in the
-- failed records hash: the new message's id), acked after failing ("ok:{id}": ack ms,
-- written by delete.lua), or none of these (deleted, purged, dropped by retention, taken
-- out of the DLQ, or acked by a plain RSMQ client).
-- Reply: OK, then per id: state, detail ("in_flight" | "waiting" | "dead_lettered" |
-- "requeued", new id | "succeeded", ack ms | "gone", "").
local out = { OK }
local target = redis.call("HGET", KEYS[1], "ext:dlq_target")
local dlq = target and cjson.decode(target) or nil
local now = now_ms()
for _, id in ipairs(ARGV) do
  local state, detail = "gone", ""
  if redis.call("ZSCORE", KEYS[2], id) then
    local f = tonumber(redis.call("ZSCORE", KEYS[3], id) or "")
    state = "waiting"
    if f and f > now then
      local rc = redis.call("HGET", KEYS[1], id .. ":rc")
      if rc and redis.call("HGET", KEYS[5], id .. ":st") ~= rc then
        state = "in_flight"
      end
    end
  elseif dlq and redis.call("ZSCORE", dlq.z, id) then
    state = "dead_lettered"
  else
    local m = redis.call("HMGET", KEYS[4], "rq:" .. id, "ok:" .. id)
    if m[1] then
      state, detail = "requeued", m[1]
    elseif m[2] then
      state, detail = "succeeded", m[2]
    end
  end
  out[#out + 1] = state
  out[#out + 1] = detail
end
return out
