-- 0005: the version of the policy the filter enforced for each exchange
-- (portcullis.decision.v1.Decision.policy_version), so that SOC queries can
-- tell which registry snapshot allowed or refused a call, and when a new
-- snapshot reached every replica.
--   policy_version  the registry snapshot's content hash ("sha256:<hex>"),
--                   or "file:<sha256 hex>" for a filter running from a
--                   static policy file. Few distinct values: LowCardinality.
-- Rows written before this migration, and decisions from filters that
-- predate the field, read as '' (the DEFAULT).
--
-- Portability as in 0001: LowCardinality(String) becomes String on servers
-- older than 20.1.
--
-- Idempotence as in 0004: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS,
-- so the migrator skips the statement when the column exists and otherwise
-- sends it without IF NOT EXISTS (planStep in add_column.go).
ALTER TABLE decisions
    ADD COLUMN IF NOT EXISTS policy_version LowCardinality(String) DEFAULT ''
    AFTER request_id;
