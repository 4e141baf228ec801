-- 0002: every verdict analytics issued (portcullis.verdict.v1.Verdict), after
-- it was produced to the compacted verdicts topic.
--
-- A batch whose offsets were not committed may be processed again, so a
-- verdict can be recorded twice (same verdict_id, same key): read with FINAL
-- or uniqExact(verdict_id) for exact figures, as for decisions.
--
--   subject_kind/action  enums, names and numbers exactly as in the proto.
--   expires_at           NULL when the verdict applies until cleared.
--   kafka_*              where the verdict was written on the verdicts topic.
--   inserted_at          when analytics inserted the row (UTC).
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
    rule                     LowCardinality(String),
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
