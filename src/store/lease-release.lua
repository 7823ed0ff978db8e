-- Releases a lease, only for its owner: a process whose lease expired can never drop its successor's.
--
-- KEYS[1]  the lease key
-- ARGV[1]  the owner token
-- Returns 1 when released, 0 when the lease is someone else's or gone.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
