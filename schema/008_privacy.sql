-- 008_privacy.sql — scopes that hold and personal data that goes (docs/privacy.md):
-- each audit row names the school it is about, so a school's staff read only their school's
-- rows; a photo row remembers when the retention job deleted its files.

ALTER TABLE audit_log ADD COLUMN school_id BIGINT UNSIGNED NULL AFTER actor_name,
  ADD KEY ix_audit_school (school_id, id);

ALTER TABLE photos ADD COLUMN original_purged_at DATETIME(3) NULL AFTER checks,
  ADD COLUMN standard_purged_at DATETIME(3) NULL AFTER original_purged_at;
