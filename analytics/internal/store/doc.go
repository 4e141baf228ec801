// Package store is the ClickHouse adapter of analytics: it owns the schema
// (versioned, embedded migrations) and writes decisions, verdicts and dead
// letters in batches over the native protocol.
//
// It speaks only the native driver.Conn API of clickhouse-go v2.25
// (PrepareBatch, Append, Send): that is the path that works against
// ClickHouse 18.16 as well as current servers. Every statement it sends must
// run on both; see the migrations for the rules.
//
// Delivery into ClickHouse is at-least-once. Tables are ReplacingMergeTree
// keyed so that copies of one event collapse; readers use FINAL or
// uniqExact(event_id) for exact figures.
package store
