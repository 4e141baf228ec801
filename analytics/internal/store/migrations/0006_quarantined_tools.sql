-- 0006: the tools a tools/list answer was narrowed by because their live
-- definition no longer matched the pin the registry approved
-- (portcullis.decision.v1.Decision.quarantined_tools, a "rug pull"), so that
-- SOC queries can find which servers changed a tool under the agents and
-- when, e.g.
--   SELECT upstream, arrayJoin(quarantined_tools) AS tool, min(time)
--   FROM decisions WHERE notEmpty(quarantined_tools) GROUP BY upstream, tool
-- Calls refused because of it carry reason REASON_CODE_TOOL_QUARANTINED
-- (the reason column is a string: new codes need no migration).
--   quarantined_tools  tool names, sorted, each once; [] for every other
--                      exchange.
-- Rows written before this migration, and decisions from filters that
-- predate the field, read as [] (the DEFAULT).
--
-- Portability as in 0001: Array(String) exists on every supported server.
--
-- Idempotence as in 0004: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS,
-- so the migrator skips the statement when the column exists and otherwise
-- sends it without IF NOT EXISTS (planStep in add_column.go).
ALTER TABLE decisions
    ADD COLUMN IF NOT EXISTS quarantined_tools Array(String) DEFAULT []
    AFTER policy_version;
