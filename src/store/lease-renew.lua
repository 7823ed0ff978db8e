-- Renews a lease, only for its owner: a process whose lease expired can never extend its successor's.
--
-- KEYS[1]  the lease key
-- ARGV[1]  the owner token
-- ARGV[2]  the TTL (ms)
-- Returns 1 when renewed, 0 when the lease is someone else's or gone.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
