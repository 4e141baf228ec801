// Command portcullis-analytics consumes Portcullis decision events from
// Kafka into ClickHouse and publishes verdicts. See mainlib for the flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/portcullis/portcullis/analytics/mainlib"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := mainlib.Main(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "portcullis-analytics:", err)
		os.Exit(1)
	}
}
