-- 002_wechat.sql — the shared WeChat access_token, refreshed by the lease holder only.
-- token_enc is AES-256-GCM sealed with crypto.data_key (aad "wx_access_tokens:<appid>").
-- version grows with every fetch; stale = 1 when a caller saw WeChat reject this version.

CREATE TABLE wx_access_tokens (
  appid VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  token_enc VARBINARY(1100) NOT NULL,
  version BIGINT NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  stale TINYINT(1) NOT NULL DEFAULT 0,
  fetched_by VARCHAR(128) NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Avatars: the public file name (random) of a student's current avatar.
ALTER TABLE users ADD COLUMN avatar_name VARCHAR(64) CHARACTER SET ascii NULL AFTER avatar_path;
