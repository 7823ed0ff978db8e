-- Applies one change to a dispute record: an optional state move, fields, and an event, under an
-- idempotency key (re-applying the same key is a no-op). Everything lands together or not at all.
--
-- KEYS[1]  the record hash              <prefix>:dispute:<id>
-- KEYS[2]  the event list               <prefix>:dispute:<id>:events
-- KEYS[3]  the applied idempotency keys <prefix>:dispute:<id>:applied
-- ARGV[1]  the idempotency key
-- ARGV[2]  the states the move is allowed from, comma-separated, or '*' for a note (no state check)
-- ARGV[3]  the state to move to, or '' for a note
-- ARGV[4]  now (ms since the epoch): updatedAt
-- ARGV[5]  the event (JSON); `from` and `to` are filled in here, under the script's atomicity
-- ARGV[6]  a field that must be absent for the change to apply (a write-ahead slot), or ''
-- ARGV[7..] field, value pairs to set on the record
-- Returns 'applied', 'duplicate', 'missing' (no record), 'taken' (ARGV[6] is set) or
-- 'illegal:<current state>'.
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 'duplicate' end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if ARGV[2] ~= '*' then
  local ok = false
  for s in string.gmatch(ARGV[2], '[^,]+') do if s == state then ok = true end end
  if not ok then return 'illegal:' .. state end
end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[6]) == 1 then return 'taken' end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[3]) end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[4])
local event = cjson.decode(ARGV[5])
if ARGV[3] ~= '' then event['from'] = state; event['to'] = ARGV[3] end
redis.call('RPUSH', KEYS[2], cjson.encode(event))
redis.call('SADD', KEYS[3], ARGV[1])
return 'applied'
