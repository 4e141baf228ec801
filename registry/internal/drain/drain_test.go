package drain

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestShutdownClosesStreamsAfterGrace(t *testing.T) {
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done() // a stream that never ends by itself
	}), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	begin := time.Now()
	forced, err := Shutdown(srv, 100*time.Millisecond)
	if err != nil || !forced {
		t.Fatalf("Shutdown = %v, %v; want forced, nil", forced, err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	_, _ = io.ReadAll(resp.Body) // returns once the stream is closed
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
}

func TestShutdownIdleIsNotForced(t *testing.T) {
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	if forced, err := Shutdown(srv, time.Second); forced || err != nil {
		t.Fatalf("Shutdown = %v, %v; want not forced, nil", forced, err)
	}
}
