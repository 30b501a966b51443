-- 003_binding.sql — a student's binding to a task (feature code accepted), and the
-- school year of a task made explicit for the one-collection-per-year rule.

CREATE TABLE task_bindings (
  user_id BIGINT UNSIGNED NOT NULL,
  task_id BIGINT UNSIGNED NOT NULL,
  bound_at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
  PRIMARY KEY (user_id, task_id),
  KEY ix_task_bindings_task (task_id),
  CONSTRAINT fk_task_bindings_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT fk_task_bindings_task FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

UPDATE tasks SET grad_year = YEAR(closes_at + INTERVAL 8 HOUR) WHERE grad_year IS NULL;
ALTER TABLE tasks MODIFY grad_year INT NOT NULL;
ALTER TABLE orders ADD COLUMN grad_year INT NULL AFTER school_id,
  ADD KEY ix_orders_school_year_student (school_id, grad_year, student_no);
