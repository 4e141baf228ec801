// Command portcullis-extproc is the Envoy external-processing filter that
// governs MCP traffic: see package mainlib.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/portcullis/portcullis/extproc/mainlib"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mainlib.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portcullis-extproc:", err)
		}
		os.Exit(1)
	}
}
