-- 007_session_revocations.sql — every instance keeps a cache of valid student sessions
-- (users/sessions.c) and reads the revocations of the last minute from here every
-- auth.session_poll_ms (docs/users.md "Session cache"): an index on revoked_at makes that
-- read a short range scan.

ALTER TABLE user_sessions ADD KEY ix_user_sessions_revoked (revoked_at);
