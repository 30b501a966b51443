-- 007_pc_pages.sql — the students' PC page: SMS login codes (only an HMAC of each code is
-- kept), WeChat Pay Native code URLs of orders, and the lookup of a student by bound phone.

CREATE TABLE sms_login_codes (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  phone VARCHAR(20) CHARACTER SET ascii NOT NULL,
  code_hmac CHAR(64) CHARACTER SET ascii NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  expires_at DATETIME(3) NOT NULL,
  used_at DATETIME(3) NULL,
  failures INT NOT NULL DEFAULT 0,
  created_ip VARCHAR(45) CHARACTER SET ascii NULL,
  KEY ix_sms_login_codes_phone (phone, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The code_url of an order's Native prepay (shown as a QR code), reused while it is live.
CREATE TABLE order_native_codes (
  order_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  code_url VARCHAR(255) CHARACTER SET ascii NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  CONSTRAINT fk_native_codes_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE INDEX ix_users_phone ON users (phone, phone_bound_at);
