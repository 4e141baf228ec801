// Command portcullis-example-mcp serves the example help-desk MCP server
// (package examplemcp) over Streamable HTTP.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portcullis/portcullis/registry/examplemcp"
	"github.com/portcullis/portcullis/registry/internal/drain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Main(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portcullis-example-mcp:", err)
		}
		os.Exit(1)
	}
}

// Main serves until ctx is done.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("portcullis-example-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "listen address")
	tokenFile := fs.String("backend-token-file", "", "file holding the bearer token every request must carry (empty: no check)")
	jsonResp := fs.Bool("json", false, "answer with application/json instead of text/event-stream")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var token string
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		token = string(trimNL(b))
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: examplemcp.Handler(examplemcp.HandlerOptions{BackendToken: token, JSONResponse: *jsonResp}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "portcullis-example-mcp: serving on http://%s/mcp\n", lis.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		forced, err := drain.Shutdown(srv, 3*time.Second)
		if forced {
			fmt.Fprintln(stderr, "portcullis-example-mcp: closed MCP streams still open after 3s of draining")
		}
		return err
	case err := <-errc:
		return err
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
