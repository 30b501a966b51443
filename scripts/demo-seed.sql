-- Demo data for `make run` (idempotent): the school of the source notice and its
-- collection task with feature code evhx53, whose window is re-opened around "now"
-- on every start so the demo always works.
INSERT INTO schools (code, name) VALUES ('10402', '演示大学')
  ON DUPLICATE KEY UPDATE name = VALUES(name);
INSERT INTO tasks (school_id, name, collection_type, feature_code, feature_code_norm,
                   opens_at, closes_at, price_fen, edit_days, roster_required, grad_year)
  SELECT id, '2024届毕业生图像信息补采（集中采集）', 'centralized', 'evhx53', 'evhx53',
         UTC_TIMESTAMP(3) - INTERVAL 1 DAY, UTC_TIMESTAMP(3) + INTERVAL 30 DAY, 2500, 7, 1, 2024
  FROM schools WHERE code = '10402'
  ON DUPLICATE KEY UPDATE opens_at = VALUES(opens_at), closes_at = VALUES(closes_at);
