// Package pipeline is the Kafka adapter of analytics: a consumer-group loop
// that reads decisions, stores them, runs the rules and publishes their
// verdicts, committing offsets only for what was stored.
//
// One poll is one batch, processed in these steps, each retried with capped
// exponential backoff until it succeeds or the context ends:
//
//  1. decode every record; a record that is not a storable Decision is a dead
//     letter (see below);
//  2. insert the decisions into the store (one batch), then the dead letters;
//  3. feed the decisions to the rules (once per batch, after storing);
//  4. produce the verdicts to the compacted verdicts topic (idempotent,
//     acks=all, synchronous), then insert them into the store;
//  5. commit the batch's offsets.
//
// The next poll happens only after the commit, and rebalances are blocked
// while a batch is in flight, so an offset is never committed for a record
// that was not stored, and a store outage stalls the pipeline on the same
// batch instead of skipping it. If the pipeline stops mid-batch the batch is
// delivered again: delivery is at-least-once, which the store absorbs
// (ReplacingMergeTree keyed by event id).
//
// A long outage and the consumer group: while a batch is retried the member
// keeps heartbeating, so it stays in the group and keeps its partitions. If
// another member joins meanwhile, the blocked member is removed once the
// group's rebalance timeout (60s by default) passes; its partitions move on
// from the last committed offset, its own late commit fails (logged), and the
// batch is stored twice: duplicates, never a gap.
//
// Undecodable records: a record whose value does not parse as a
// portcullis.decision.v1.Decision, or that the store cannot hold (no event
// id, no time, an unknown outcome...), is written to the dead_letters table
// with its topic, partition, offset, raw key and value and the error, and its
// offset is committed with the batch. It is not dropped silently, and one bad
// record does not stall the topic; it can be replayed from dead_letters once
// the cause is fixed.
package pipeline
