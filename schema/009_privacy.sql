-- 009_privacy.sql — scopes that hold and personal data that goes (docs/privacy.md):
-- each audit row names the school it is about, so a school's staff read only their school's
-- rows; a photo row remembers when the retention job deleted its files.

ALTER TABLE audit_log ADD COLUMN school_id BIGINT UNSIGNED NULL AFTER actor_name,
  ADD KEY ix_audit_school (school_id, id);

ALTER TABLE photos ADD COLUMN original_purged_at DATETIME(3) NULL AFTER checks,
  ADD COLUMN standard_purged_at DATETIME(3) NULL AFTER original_purged_at;

-- The retention job asks, for each stored file, whether a row still needs it.
ALTER TABLE photos ADD KEY ix_photos_original_path (original_path),
  ADD KEY ix_photos_normalized_path (normalized_path);
ALTER TABLE users ADD KEY ix_users_avatar_path (avatar_path);
-- Old sessions, messages and audit rows are deleted by age.
ALTER TABLE staff_sessions ADD KEY ix_staff_sessions_expires (expires_at);
ALTER TABLE user_sessions ADD KEY ix_user_sessions_expires (expires_at);
ALTER TABLE outbox ADD KEY ix_outbox_state_updated (state, updated_at);
ALTER TABLE collection_candidates ADD KEY ix_candidates_expires (expires_at);
