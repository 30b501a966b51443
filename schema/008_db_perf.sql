-- 008_db_perf.sql — indexes for the caches every instance keeps (bench/README.md "Database
-- endpoints"):
--  * user_sessions.revoked_at: each instance reads the revocations of the last minute every
--    auth.session_poll_ms (users/sessions.c) — a short range scan;
--  * orders (user_id, updated_at, version): the fingerprint of a student's orders (count, sum
--    of versions, sum of updated_at) that decides whether a kept order list is still true
--    (orders/listing.c) is read from the index alone.

ALTER TABLE user_sessions ADD KEY ix_user_sessions_revoked (revoked_at);
ALTER TABLE orders ADD KEY ix_orders_user_fp (user_id, updated_at, version);
