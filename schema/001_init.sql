-- 001_init.sql — schema v1: every table the domain needs.
-- Times are UTC DATETIMEs (the server sets time_zone '+00:00'); money is BIGINT fen.
-- Statements end with ';' at the end of a line (the migration runner splits there).

CREATE TABLE schools (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(16) CHARACTER SET ascii NOT NULL,
  name VARCHAR(128) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_schools_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Students, one per WeChat openid. session_key is stored encrypted (AES-256-GCM).
CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  openid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  unionid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  session_key_enc VARBINARY(128) NULL,
  session_key_at DATETIME(3) NULL,
  nickname VARCHAR(64) NULL,
  avatar_path VARCHAR(255) NULL,
  real_name VARCHAR(64) NULL,
  phone VARCHAR(20) CHARACTER SET ascii NULL,
  phone_bound_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_users_openid (openid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Opaque bearer tokens of students; only the SHA-256 of a token is stored.
CREATE TABLE user_sessions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  expires_at DATETIME(3) NOT NULL,
  revoked_at DATETIME(3) NULL,
  created_ip VARCHAR(45) CHARACTER SET ascii NULL,
  UNIQUE KEY uk_user_sessions_token (token_hash),
  KEY ix_user_sessions_user (user_id),
  CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Staff accounts: passwords are Argon2id encoded hashes.
CREATE TABLE staff (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii NOT NULL,
  display_name VARCHAR(64) NULL,
  disabled TINYINT(1) NOT NULL DEFAULT 0,
  password_changed_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_staff_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Roles of a staff account. school_id NULL = company-wide; college limits a college role;
-- task_id assigns a reviewer to one task (NULL = every task of the school).
CREATE TABLE staff_roles (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  staff_id BIGINT UNSIGNED NOT NULL,
  role ENUM('admin','reviewer','finance','college') NOT NULL,
  school_id BIGINT UNSIGNED NULL,
  college VARCHAR(128) NULL,
  task_id BIGINT UNSIGNED NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  KEY ix_staff_roles_staff (staff_id),
  CONSTRAINT fk_staff_roles_staff FOREIGN KEY (staff_id) REFERENCES staff (id),
  CONSTRAINT fk_staff_roles_school FOREIGN KEY (school_id) REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE staff_sessions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  staff_id BIGINT UNSIGNED NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  expires_at DATETIME(3) NOT NULL,
  revoked_at DATETIME(3) NULL,
  created_ip VARCHAR(45) CHARACTER SET ascii NULL,
  user_agent VARCHAR(255) NULL,
  UNIQUE KEY uk_staff_sessions_token (token_hash),
  KEY ix_staff_sessions_staff (staff_id),
  CONSTRAINT fk_staff_sessions_staff FOREIGN KEY (staff_id) REFERENCES staff (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Collection tasks. Feature codes are unique among live (not archived) tasks,
-- compared trimmed and lower-cased (feature_code_norm).
CREATE TABLE tasks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  school_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(128) NOT NULL,
  collection_type ENUM('centralized','scattered') NOT NULL,
  feature_code VARCHAR(32) NOT NULL,
  feature_code_norm VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  opens_at DATETIME(3) NOT NULL,
  closes_at DATETIME(3) NOT NULL,
  price_fen BIGINT NOT NULL,
  edit_days INT NOT NULL DEFAULT 7,
  resubmit_cap INT NOT NULL DEFAULT 3,
  roster_required TINYINT(1) NOT NULL DEFAULT 1,
  unpaid_timeout_s INT NOT NULL DEFAULT 1800,
  grad_year INT NULL,
  archived_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  live_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin
    AS (IF(archived_at IS NULL, feature_code_norm, NULL)) PERSISTENT,
  UNIQUE KEY uk_tasks_live_code (live_code),
  KEY ix_tasks_school (school_id),
  CONSTRAINT fk_tasks_school FOREIGN KEY (school_id) REFERENCES schools (id),
  CONSTRAINT ck_tasks_window CHECK (closes_at > opens_at),
  CONSTRAINT ck_tasks_price CHECK (price_fen >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The school's roster for a task. Names are kept exactly as imported (trimmed).
CREATE TABLE roster_entries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  task_id BIGINT UNSIGNED NOT NULL,
  seq INT NULL,
  college VARCHAR(128) NOT NULL,
  name VARCHAR(128) NOT NULL,
  student_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  class_name VARCHAR(128) NULL,
  id_no_masked VARCHAR(32) NULL,
  collected_offline TINYINT(1) NOT NULL DEFAULT 0,
  collected_offline_at DATETIME(3) NULL,
  enrollment_phash BIGINT UNSIGNED NULL,
  extra JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_roster_task_student (task_id, student_no),
  KEY ix_roster_task_college (task_id, college),
  CONSTRAINT fk_roster_task FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A decoded collection code waiting for the student's confirmation.
CREATE TABLE collection_candidates (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id CHAR(32) CHARACTER SET ascii NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  task_id BIGINT UNSIGNED NOT NULL,
  code_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
  code_raw VARBINARY(2048) NOT NULL,
  student_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  record JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  expires_at DATETIME(3) NOT NULL,
  UNIQUE KEY uk_candidates_public (public_id),
  KEY ix_candidates_user_task (user_id, task_id),
  CONSTRAINT fk_candidates_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT fk_candidates_task FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Orders. order_no doubles as WeChat Pay's out_trade_no. At most one active order
-- (not closed, not refunded) per task and student: uk_orders_active.
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  task_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  school_id BIGINT UNSIGNED NOT NULL,
  student_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  student_name VARCHAR(128) NOT NULL,
  college VARCHAR(128) NULL,
  class_name VARCHAR(128) NULL,
  code_sha256 CHAR(64) CHARACTER SET ascii NULL,
  status ENUM('awaiting_photo','unpaid','pending_review','approved','rejected','closed','refunded')
    NOT NULL DEFAULT 'awaiting_photo',
  amount_fen BIGINT NOT NULL,
  prepay_id VARCHAR(64) CHARACTER SET ascii NULL,
  prepay_expires_at DATETIME(3) NULL,
  pay_deadline DATETIME(3) NULL,
  paid_at DATETIME(3) NULL,
  transaction_id VARCHAR(32) CHARACTER SET ascii NULL,
  editable_until DATETIME(3) NULL,
  resubmissions INT NOT NULL DEFAULT 0,
  closed_reason VARCHAR(32) NULL,
  version INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  active_key VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin
    AS (IF(status IN ('closed','refunded'), NULL, CONCAT(task_id, '/', student_no))) PERSISTENT,
  UNIQUE KEY uk_orders_order_no (order_no),
  UNIQUE KEY uk_orders_active (active_key),
  UNIQUE KEY uk_orders_transaction (transaction_id),
  KEY ix_orders_user (user_id, created_at),
  KEY ix_orders_task_status (task_id, status, paid_at),
  KEY ix_orders_status_deadline (status, pay_deadline),
  CONSTRAINT fk_orders_task FOREIGN KEY (task_id) REFERENCES tasks (id),
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT ck_orders_amount CHECK (amount_fen >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Photos of an order; exactly one row per order is current.
CREATE TABLE photos (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  original_path VARCHAR(255) NOT NULL,
  normalized_path VARCHAR(255) NOT NULL,
  original_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
  normalized_bytes INT NOT NULL,
  phash BIGINT UNSIGNED NOT NULL,
  width INT NOT NULL,
  height INT NOT NULL,
  checks JSON NOT NULL,
  is_current TINYINT(1) NOT NULL DEFAULT 1,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  current_key BIGINT UNSIGNED AS (IF(is_current = 1, order_id, NULL)) PERSISTENT,
  UNIQUE KEY uk_photos_current (current_key),
  KEY ix_photos_order (order_id),
  KEY ix_photos_phash (phash),
  CONSTRAINT fk_photos_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Successful payments as WeChat Pay reported them (notification or query).
CREATE TABLE payments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  out_trade_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  transaction_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
  amount_fen BIGINT NOT NULL,
  payer_total_fen BIGINT NULL,
  payer_openid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  trade_state VARCHAR(16) CHARACTER SET ascii NOT NULL,
  success_time DATETIME(3) NULL,
  source ENUM('notify','query','bill') NOT NULL,
  disposition ENUM('applied','refund_due','duplicate') NOT NULL DEFAULT 'applied',
  raw JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_payments_transaction (transaction_id),
  KEY ix_payments_order (order_id),
  KEY ix_payments_success (success_time),
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every WeChat Pay notification id seen, so a redelivery is recognised.
CREATE TABLE pay_notifications (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  notify_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_type VARCHAR(64) CHARACTER SET ascii NOT NULL,
  out_trade_no VARCHAR(64) CHARACTER SET ascii NULL,
  result VARCHAR(32) CHARACTER SET ascii NOT NULL,
  received_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_pay_notifications_id (notify_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refunds (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  out_refund_no VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  refund_id VARCHAR(32) CHARACTER SET ascii NULL,
  amount_fen BIGINT NOT NULL,
  reason VARCHAR(80) NOT NULL,
  status ENUM('requested','processing','success','closed','abnormal') NOT NULL DEFAULT 'requested',
  requested_by BIGINT UNSIGNED NULL,
  success_time DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_refunds_out_refund_no (out_refund_no),
  UNIQUE KEY uk_refunds_refund_id (refund_id),
  KEY ix_refunds_order (order_id),
  CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT ck_refunds_amount CHECK (amount_fen > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reviews (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT UNSIGNED NOT NULL,
  photo_id BIGINT UNSIGNED NULL,
  reviewer_id BIGINT UNSIGNED NOT NULL,
  decision ENUM('approve','reject') NOT NULL,
  reason_code VARCHAR(64) CHARACTER SET ascii NULL,
  reason VARCHAR(255) NULL,
  note VARCHAR(500) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  KEY ix_reviews_order (order_id),
  CONSTRAINT fk_reviews_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_reviews_reviewer FOREIGN KEY (reviewer_id) REFERENCES staff (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Side effects decided inside a transaction and delivered after it (messages, SMS, closes).
CREATE TABLE outbox (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind VARCHAR(32) CHARACTER SET ascii NOT NULL,
  dedupe_key VARCHAR(128) CHARACTER SET ascii NULL,
  payload JSON NOT NULL,
  state ENUM('pending','running','done','dead') NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_try_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  locked_until DATETIME(3) NULL,
  last_error VARCHAR(500) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  UNIQUE KEY uk_outbox_dedupe (dedupe_key),
  KEY ix_outbox_due (state, next_try_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who did what to which target, when and from where. Never holds secrets.
CREATE TABLE audit_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  actor_type ENUM('staff','user','system','wechat','anonymous') NOT NULL,
  actor_id BIGINT UNSIGNED NULL,
  actor_name VARCHAR(64) NULL,
  action VARCHAR(64) CHARACTER SET ascii NOT NULL,
  target_type VARCHAR(32) CHARACTER SET ascii NULL,
  target_id VARCHAR(64) NULL,
  ip VARCHAR(45) CHARACTER SET ascii NULL,
  request_id VARCHAR(64) CHARACTER SET ascii NULL,
  details JSON NULL,
  KEY ix_audit_at (at),
  KEY ix_audit_actor (actor_type, actor_id, at),
  KEY ix_audit_target (target_type, target_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Leases: exactly one server instance owns a background duty until expires_at.
CREATE TABLE leases (
  name VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  holder VARCHAR(128) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Fixed-window counters shared by all instances (failed logins, feature-code guesses).
CREATE TABLE rate_limits (
  bucket VARCHAR(32) CHARACTER SET ascii NOT NULL,
  k VARCHAR(191) NOT NULL,
  window_start DATETIME(3) NOT NULL,
  hits INT NOT NULL,
  PRIMARY KEY (bucket, k)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
