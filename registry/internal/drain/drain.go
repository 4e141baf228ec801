// Package drain shuts an HTTP server down as a proxy drains: new
// connections stop at once, requests in flight get a grace period, and
// what is still open after it — event streams, MCP GET streams, watch
// streams, which never go idle by themselves — is closed.
package drain

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Shutdown drains srv for up to grace and then closes what is left.
// forced reports that streams were still open and were closed; that is not
// an error.
func Shutdown(srv *http.Server, grace time.Duration) (forced bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return true, srv.Close()
	}
	return false, err
}
