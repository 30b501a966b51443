-- 005_notify.sql — notifications that always arrive: the student's subscription consents
-- (one "accept" = one sendable message per template), the outbox's delivery bookkeeping,
-- and the mark that a task's window close-out ran.

CREATE TABLE subscription_consents (
  user_id BIGINT UNSIGNED NOT NULL,
  template_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  remaining INT NOT NULL DEFAULT 0,
  accepted_total INT NOT NULL DEFAULT 0,
  last_result VARCHAR(16) CHARACTER SET ascii NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  PRIMARY KEY (user_id, template_id),
  CONSTRAINT fk_consents_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT ck_consents_remaining CHECK (remaining >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE outbox
  ADD COLUMN claimed_by VARCHAR(64) CHARACTER SET ascii NULL AFTER locked_until,
  ADD COLUMN sent_via VARCHAR(16) CHARACTER SET ascii NULL AFTER claimed_by,
  ADD COLUMN sent_at DATETIME(3) NULL AFTER sent_via;

ALTER TABLE tasks ADD COLUMN closed_out_at DATETIME(3) NULL AFTER archived_at;
