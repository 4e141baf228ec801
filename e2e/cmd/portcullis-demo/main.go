// Command portcullis-demo runs the scripted agent of `make demo` against a
// running stack (`make run`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/portcullis/portcullis/e2e/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	endpoint := flag.String("endpoint", "http://127.0.0.1:10000/p/support-agent/mcp", "persona endpoint of the gateway")
	key := flag.String("key", "pk_demo_support_7f3a9c2e51d84b06", "agent API key (the example policy's support-bot)")
	chAddr := flag.String("clickhouse-addr", "127.0.0.1:19000", "ClickHouse of the stack, for the audit-trail step (empty: skip it)")
	agent := flag.String("agent", "support-bot", "agent id of -key, for the audit-trail step")
	flag.Parse()
	opts := demo.Options{Endpoint: *endpoint, Key: *key, Out: os.Stdout}
	if *chAddr != "" {
		opts.Audit = demo.ClickHouseAudit(*chAddr, "portcullis", *agent)
	}
	if _, err := demo.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "portcullis-demo:", err)
		os.Exit(1)
	}
}
