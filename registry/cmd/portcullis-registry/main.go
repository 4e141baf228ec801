// Command portcullis-registry serves the registry's control-plane API
// (portcullis.registry.v1.RegistryService over Connect, gRPC and gRPC-Web;
// JSON and binary; HTTP/1.1 and cleartext HTTP/2) over the versioned
// per-environment catalog directories in -dir, with bearer-token RBAC from
// -tokens-file.
//
//	portcullis-registry -dir /var/lib/portcullis/registry -tokens-file tokens.txt
//	echo -n "$TOKEN" | portcullis-registry -hash-token   # digest for the tokens file
//
// Filter replicas authenticate with a token of role "filter" and call
// WatchSnapshots.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/portcullis/portcullis/registry/internal/drain"
	"github.com/portcullis/portcullis/registry/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portcullis-registry:", err)
		}
		os.Exit(1)
	}
}

// DefaultListen is the -listen default.
const DefaultListen = "127.0.0.1:8090"

// Main runs the registry until ctx is done (nil) or a fatal error. args
// exclude the program name. It reports "listening on ADDR" on stderr once it
// accepts connections.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portcullis-registry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", DefaultListen, "HTTP listen address (HTTP/1.1 and cleartext HTTP/2)")
	dir := fs.String("dir", "", "registry directory: DIR/preprod and DIR/prod are the environments' catalogs; required")
	tokensFile := fs.String("tokens-file", "", "bearer tokens, one 'NAME ROLE SHA256' per line (roles admin, editor, auditor, filter); required")
	keep := fs.Int("keep-revisions", server.DefaultKeepRevisions, "revisions kept on disk per environment")
	hashToken := fs.Bool("hash-token", false, "read a token from stdin, print its SHA256 for the tokens file, and exit")
	grace := fs.Duration("shutdown-grace", 5*time.Second, "time to finish in-flight calls on shutdown (watches end at once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hashToken {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		tok := strings.TrimSpace(line)
		if tok == "" {
			return errors.New("-hash-token: no token on stdin")
		}
		_, err = fmt.Fprintln(stdout, server.HashToken(tok))
		return err
	}
	var errs []error
	if *dir == "" {
		errs = append(errs, errors.New("-dir is required"))
	}
	if *tokensFile == "" {
		errs = append(errs, errors.New("-tokens-file is required"))
	}
	if *keep < 1 {
		errs = append(errs, errors.New("-keep-revisions must be at least 1"))
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	tokens, err := server.LoadTokens(*tokensFile)
	if err != nil {
		return err
	}
	if tokens.Len() == 0 {
		return fmt.Errorf("%s: no tokens: nobody could call the registry", *tokensFile)
	}
	store, err := server.OpenStore(*dir, server.StoreOptions{KeepRevisions: *keep})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	path, h := server.NewHandler(store, tokens)
	mux.Handle(path, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// Call contexts derive from serveCtx, so cancelling it ends open watches
	// (with CodeUnavailable) instead of holding shutdown for ever.
	serveCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           mux,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return serveCtx },
	}
	fmt.Fprintf(stderr, "portcullis-registry: listening on %s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	cancel()
	if forced, err := drain.Shutdown(srv, *grace); err != nil {
		return err
	} else if forced {
		fmt.Fprintf(stderr, "portcullis-registry: closed streams still open after %s of draining\n", *grace)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
