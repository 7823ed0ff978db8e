-- Moves the journal's base forward: stores the new base and drops the journal blocks below its block, in
-- one step. Only forward: a base at or below the stored one (a stale process, a retried call) changes
-- nothing, so the journal never loses blocks a stored base does not cover.
--
-- KEYS[1]  the base hash (<prefix>:base)
-- KEYS[2]  the journal sorted set (<prefix>:journal)
-- ARGV[1]  the base block number (decimal)
-- ARGV[2]  the base block hash
-- ARGV[3]  how many of that block's entries the base includes
-- ARGV[4]  the base data (base64)
-- Returns 1 when the base moved, 0 when the stored base is at or above ARGV[1].
local stored = redis.call('HGET', KEYS[1], 'block')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'block', ARGV[1], 'hash', ARGV[2], 'entries', ARGV[3], 'data', ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
return 1
