// Package rules is the analytics decision core: it watches a stream of plain
// domain decisions and issues verdicts about the subjects behind them.
//
// It imports no Kafka, ClickHouse or protobuf package; the pipeline maps wire
// types to [Decision] and [Verdict] at its edge. Rules are not safe for
// concurrent use: the pipeline feeds them from one goroutine.
package rules
