package store

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "127.0.0.1:9000" || o.Database != "portcullis" || o.Username != "default" || o.Password != "" ||
		o.DialTimeout != 5*time.Second || o.ReadTimeout != time.Minute || o.MaxOpenConns != 4 ||
		o.Logger == nil || o.Now == nil {
		t.Fatalf("defaults = %+v", o)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	_, err := Open(Options{Database: "x; DROP", DialTimeout: -1, ReadTimeout: -1, MaxOpenConns: -1})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{`database name "x; DROP"`, "dial timeout", "read timeout", "max open connections"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenIsLazy(t *testing.T) {
	s, err := Open(Options{Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatalf("Open must not connect: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
