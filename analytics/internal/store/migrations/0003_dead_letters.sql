-- 0003: records of the decisions topic that could not be stored as decisions
-- (not a valid protobuf Decision, or missing what the decisions table needs,
-- such as event_id or time). The raw key and value are kept byte for byte so
-- they can be inspected and replayed once the cause is fixed; the offset is
-- committed like any other, so one bad record never stalls the pipeline.
--
-- One row per Kafka record: the sorting key is the record's position, so
-- redeliveries collapse (read with FINAL for exact figures).
--   record_time  the Kafka record timestamp (UTC).
--   received_at  when analytics inserted the row (UTC).
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
