-- 0004: where each finding was and what the data policy did with it
-- (portcullis.decision.v1.Finding.direction and .action), so that SOC queries
-- can ask what was redacted or blocked, and in which direction.
--
-- Two more arrays parallel to finding_types/finding_counts: element i of all
-- four describes the same finding, in Decision.findings order.
--   finding_directions  Direction enum name per finding (e.g. DIRECTION_REQUEST),
--                       a string so new values need no migration; a value the
--                       proto does not name is stored as its number.
--   finding_actions     DataAction enum name per finding (e.g.
--                       DATA_ACTION_REDACTED), likewise.
-- Rows written before this migration read both as empty arrays (the DEFAULT),
-- while their finding_types may not be empty: they predate the fields.
--
-- Portability as in 0001: Array(LowCardinality(String)) becomes Array(String)
-- on servers older than 20.1.
--
-- Idempotence: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so the
-- migrator runs each statement of this form itself: it skips it when the
-- column exists and otherwise sends it without IF NOT EXISTS (see
-- planStep in add_column.go). Hence one column per statement.
ALTER TABLE decisions
    ADD COLUMN IF NOT EXISTS finding_directions Array(LowCardinality(String)) DEFAULT []
    AFTER finding_counts;

ALTER TABLE decisions
    ADD COLUMN IF NOT EXISTS finding_actions Array(LowCardinality(String)) DEFAULT []
    AFTER finding_directions;
