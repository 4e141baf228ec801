package mainlib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap/zapcore"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags([]string{"-kafka-brokers", "k1:9092, k2:9092"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		kafkaBrokers:       []string{"k1:9092", "k2:9092"},
		clickhouseAddr:     "127.0.0.1:9000",
		clickhouseDatabase: "portcullis",
		clickhouseUser:     "default",
		decisionsTopic:     "portcullis.decisions.v1",
		verdictsTopic:      "portcullis.verdicts.v1",
		group:              "portcullis-analytics",
		createTopics:       true,
		denyThreshold:      5,
		denyWindow:         time.Minute,
		blockFor:           15 * time.Minute,
		logLevel:           zapcore.InfoLevel,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("config = %+v\nwant     %+v", c, want)
	}
}

func TestParseFlagsJoinsEveryError(t *testing.T) {
	_, err := parseFlags([]string{
		"-deny-threshold", "0", "-deny-window", "-1s", "-block-for", "0s", "-log-level", "loud",
		"-decisions-topic", "t", "-verdicts-topic", "t", "-group", "", "-clickhouse-password-file", "/nonexistent/pw", "extra",
	}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{
		"-kafka-brokers is required", "-deny-threshold 0", "-deny-window -1s", "-block-for 0s", "-log-level",
		`both "t"`, "-group is empty", "-clickhouse-password-file", `unexpected arguments ["extra"]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestMainHelp(t *testing.T) {
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"-h"}, &out); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-kafka-brokers", "-clickhouse-addr", "-deny-threshold", "-block-for", "-log-level"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("usage lacks %s:\n%s", f, out.String())
		}
	}
}

func TestMainRejectsBadFlags(t *testing.T) {
	err := Main(context.Background(), []string{"-deny-threshold", "-3"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "-kafka-brokers is required") || !strings.Contains(err.Error(), "-deny-threshold -3") {
		t.Fatalf("err = %v", err)
	}
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestMainWaitsForClickHouseAndStopsCleanly: with ClickHouse unreachable
// Main keeps retrying the migration, logs JSON to stderr, and returns nil
// when its context ends.
func TestMainWaitsForClickHouseAndStopsCleanly(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var stderr syncBuffer
	start := time.Now()
	err = Main(ctx, []string{
		"-kafka-brokers", strings.Join(c.ListenAddrs(), ","),
		"-clickhouse-addr", closedAddr(t),
	}, &stderr)
	if err != nil {
		t.Fatalf("Main: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("Main took %s to stop", el)
	}
	var retries int
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stderr line is not JSON: %q", sc.Text())
		}
		if line["msg"] == "startup step failed, retrying" && line["step"] == "migrate clickhouse" && line["level"] == "warn" {
			retries++
		}
	}
	if retries < 2 {
		t.Fatalf("%d migration retries logged, want >= 2:\n%s", retries, stderr.String())
	}
}
