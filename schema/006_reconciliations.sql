-- 006_reconciliations.sql — one reconciliation report per bill day (Beijing date); re-running
-- a day replaces its report.

CREATE TABLE reconciliations (
  bill_date DATE NOT NULL PRIMARY KEY,
  state ENUM('requested','running','done','failed') NOT NULL DEFAULT 'requested',
  requested_by BIGINT UNSIGNED NULL,
  error VARCHAR(500) NULL,
  report JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  KEY ix_reconciliations_state (state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
