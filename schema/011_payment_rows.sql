-- 011_payment_rows.sql — less work in MariaDB for every payment (bench/README.md "Payment
-- notifications: third pass"); each applied payment writes an audit row, an outbox row and a
-- payment row, and MariaDB's CPU is what bounds notifications:
--  * audit_log: ix_audit_actor (actor_type, actor_id, at) and ix_audit_target (target_type,
--    target_id) are read by no statement (the audit list reads by school and id, retention
--    by `at`); each cost every audit row two more index inserts at random places;
--  * payments.raw, audit_log.details, outbox.payload: LONGTEXT utf8mb4_bin, which is what
--    MariaDB's JSON type is, without the json_valid() CHECK that parsed every document again
--    on insert. portraitd writes these columns from cJSON only (cJSON_PrintUnformatted) and
--    reads them with cJSON (or JSON_VALUE in tests), which work on the text as before.

ALTER TABLE audit_log DROP KEY ix_audit_actor, DROP KEY ix_audit_target;

ALTER TABLE payments MODIFY raw LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

ALTER TABLE audit_log MODIFY details LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

ALTER TABLE outbox MODIFY payload LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
