-- 0001: the decisions audit trail, one row per portcullis.decision.v1.Decision.
--
-- Delivery from Kafka is at-least-once: the same event (event_id) may be
-- inserted more than once. ReplacingMergeTree collapses rows with the same
-- sorting key (agent, time, event_id) — every copy of one event has the same
-- key — but only when parts merge, which happens at an unknown time. Readers
-- that need exact answers therefore either
--   * read with FINAL:   SELECT ... FROM decisions FINAL WHERE agent = 'a1' ...
--   * or count distinct: SELECT uniqExact(event_id) FROM decisions WHERE ...
-- Never count(*) for audit figures.
--
-- Portability: this file must run on ClickHouse 18.16 and on current
-- releases. The migrator rewrites LowCardinality(T) to T on servers older
-- than 20.1 (18.16 only has it behind an experimental setting); nothing else
-- is version dependent. No DateTime64, Map, TTL, CTEs or window functions.
--
-- Columns follow the proto field by field:
--   time + time_nanos  Decision.time split into seconds (DateTime, UTC) and the
--                      sub-second nanoseconds, as DateTime64 is not on 18.16.
--   outcome            Outcome enum, names and numbers exactly as in the proto.
--   reason             ReasonCode enum name (e.g. REASON_CODE_TOOL_NOT_GRANTED),
--                      a string so new codes need no migration.
--   finding_types/     Decision.findings as two parallel arrays
--   finding_counts     (type[i] was found count[i] times).
--   latency_us         Decision.latency in microseconds.
--   ingested_at        when analytics inserted the row (UTC).
--   kafka_partition/   where the event was read from the decisions topic.
--   kafka_offset
CREATE TABLE IF NOT EXISTS decisions
(
    event_id           String,
    time               DateTime('UTC'),
    time_nanos         UInt32,
    processor_instance String,
    sequence           UInt64,
    agent              String,
    subject            String,
    persona            LowCardinality(String),
    session            String,
    mcp_method         LowCardinality(String),
    tool               String,
    upstream           LowCardinality(String),
    outcome            Enum8(
                           'OUTCOME_UNSPECIFIED' = 0,
                           'OUTCOME_ALLOWED' = 1,
                           'OUTCOME_DENIED' = 2,
                           'OUTCOME_BLOCKED' = 3,
                           'OUTCOME_ERROR' = 4,
                           'OUTCOME_THROTTLED' = 5),
    reason             LowCardinality(String),
    finding_types      Array(String),
    finding_counts     Array(UInt32),
    latency_us         UInt64,
    bytes_in           UInt64,
    bytes_out          UInt64,
    client_address     String,
    environment        LowCardinality(String),
    http_method        LowCardinality(String),
    http_status        UInt16,
    verdict_id         String,
    request_id         String,
    ingested_at        DateTime('UTC'),
    kafka_partition    Int32,
    kafka_offset       Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (agent, time, event_id);
