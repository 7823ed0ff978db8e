-- Opens a dispute record in state `detected`, once: a second open of the same id changes nothing.
-- The record, its first event, its idempotency key and its place in the index land together.
--
-- KEYS[1]  the record hash              <prefix>:dispute:<id>
-- KEYS[2]  the event list               <prefix>:dispute:<id>:events
-- KEYS[3]  the applied idempotency keys <prefix>:dispute:<id>:applied
-- KEYS[4]  the index, by creation time  <prefix>:disputes
-- ARGV[1]  the dispute id
-- ARGV[2]  now (ms since the epoch): createdAt, updatedAt and the index score
-- ARGV[3]  unused (kept so that the argument positions stay those of schema 1's inline script)
-- ARGV[4]  the first event (JSON)
-- ARGV[5]  the idempotency key
-- ARGV[6..] field, value pairs to set on the record (epoch, kick-off, schema, opened facts)
-- Returns 'applied' or 'duplicate'.
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', 'detected', 'version', '1', 'createdAt', ARGV[2], 'updatedAt', ARGV[2])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
return 'applied'
