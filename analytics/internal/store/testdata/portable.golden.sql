-- bootstrap
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY version;
-- 0001_decisions
CREATE TABLE IF NOT EXISTS decisions
(
    event_id           String,
    time               DateTime('UTC'),
    time_nanos         UInt32,
    processor_instance String,
    sequence           UInt64,
    agent              String,
    subject            String,
    persona            String,
    session            String,
    mcp_method         String,
    tool               String,
    upstream           String,
    outcome            Enum8(
                           'OUTCOME_UNSPECIFIED' = 0,
                           'OUTCOME_ALLOWED' = 1,
                           'OUTCOME_DENIED' = 2,
                           'OUTCOME_BLOCKED' = 3,
                           'OUTCOME_ERROR' = 4,
                           'OUTCOME_THROTTLED' = 5),
    reason             String,
    finding_types      Array(String),
    finding_counts     Array(UInt32),
    latency_us         UInt64,
    bytes_in           UInt64,
    bytes_out          UInt64,
    client_address     String,
    environment        String,
    http_method        String,
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
-- 0002_verdicts
CREATE TABLE IF NOT EXISTS verdicts
(
    verdict_id               String,
    subject_kind             Enum8(
                                 'SUBJECT_KIND_UNSPECIFIED' = 0,
                                 'SUBJECT_KIND_AGENT' = 1,
                                 'SUBJECT_KIND_SUBJECT' = 2,
                                 'SUBJECT_KIND_PERSONA' = 3,
                                 'SUBJECT_KIND_SESSION' = 4,
                                 'SUBJECT_KIND_CLIENT_ADDRESS' = 5),
    subject_id               String,
    action                   Enum8(
                                 'ACTION_UNSPECIFIED' = 0,
                                 'ACTION_BLOCK' = 1,
                                 'ACTION_THROTTLE' = 2,
                                 'ACTION_CLEAR' = 3),
    reason                   String,
    rule                     String,
    issued_at                DateTime('UTC'),
    expires_at               Nullable(DateTime('UTC')),
    throttle_rate_per_second Float64,
    throttle_burst           UInt32,
    kafka_topic              String,
    kafka_partition          Int32,
    kafka_offset             Int64,
    inserted_at              DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(issued_at)
ORDER BY (subject_kind, subject_id, issued_at, verdict_id);
-- 0003_dead_letters
CREATE TABLE IF NOT EXISTS dead_letters
(
    kafka_topic     String,
    kafka_partition Int32,
    kafka_offset    Int64,
    record_key      String,
    record_value    String,
    error           String,
    record_time     DateTime('UTC'),
    received_at     DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(record_time)
ORDER BY (kafka_topic, kafka_partition, kafka_offset);
-- 0004_finding_direction_action
-- only if decisions.finding_directions is missing
ALTER TABLE decisions
    ADD COLUMN finding_directions Array(String) DEFAULT []
    AFTER finding_counts;
-- 0004_finding_direction_action
-- only if decisions.finding_actions is missing
ALTER TABLE decisions
    ADD COLUMN finding_actions Array(String) DEFAULT []
    AFTER finding_directions;
-- 0005_policy_version
-- only if decisions.policy_version is missing
ALTER TABLE decisions
    ADD COLUMN policy_version String DEFAULT ''
    AFTER request_id;
-- 0006_quarantined_tools
-- only if decisions.quarantined_tools is missing
ALTER TABLE decisions
    ADD COLUMN quarantined_tools Array(String) DEFAULT []
    AFTER policy_version;
