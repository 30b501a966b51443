-- 010_order_list_revs.sql — a student's order-list revision, moved by the database itself
-- (docs/tasks.md "The order-list cache", bench/README.md "Database endpoints"):
--  * order_list_revs: one row per student who has (or had) orders; rev grows with every row
--    inserted, updated or deleted in orders for that student, in the same transaction (the
--    triggers below), so an equal rev means an equal order list, whoever the writer is;
--  * every instance's order-list cache compares it for up to 32 students in one statement:
--    one primary-key read per student, where the fingerprint it replaces read every order of
--    the student from ix_orders_user_fp (dropped: nothing else reads it).
-- The update trigger is one line: store/migrate.c ends a statement at a line ending in ';'.

CREATE TABLE order_list_revs (
  user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  rev BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO order_list_revs (user_id, rev) SELECT user_id, 1 FROM orders GROUP BY user_id;

CREATE TRIGGER tr_orders_rev_insert AFTER INSERT ON orders FOR EACH ROW
  INSERT INTO order_list_revs (user_id, rev) VALUES (NEW.user_id, 1)
  ON DUPLICATE KEY UPDATE rev = rev + 1;

CREATE TRIGGER tr_orders_rev_update AFTER UPDATE ON orders FOR EACH ROW BEGIN INSERT INTO order_list_revs (user_id, rev) VALUES (NEW.user_id, 1) ON DUPLICATE KEY UPDATE rev = rev + 1; IF OLD.user_id <> NEW.user_id THEN INSERT INTO order_list_revs (user_id, rev) VALUES (OLD.user_id, 1) ON DUPLICATE KEY UPDATE rev = rev + 1; END IF; END;

CREATE TRIGGER tr_orders_rev_delete AFTER DELETE ON orders FOR EACH ROW
  INSERT INTO order_list_revs (user_id, rev) VALUES (OLD.user_id, 1)
  ON DUPLICATE KEY UPDATE rev = rev + 1;

ALTER TABLE orders DROP KEY ix_orders_user_fp;
