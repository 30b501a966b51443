-- 004_photos.sql — photos are content-addressed files; an order remembers when its photo
-- was last replaced. Duplicate detection compares perceptual hashes (BIT_COUNT of XOR).

ALTER TABLE photos
  ADD COLUMN normalized_sha256 CHAR(64) CHARACTER SET ascii NULL AFTER original_sha256,
  ADD COLUMN quality INT NULL AFTER normalized_bytes,
  ADD COLUMN student_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER user_id,
  ADD KEY ix_photos_student (student_no);
