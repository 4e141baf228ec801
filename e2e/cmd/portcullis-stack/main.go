// Command portcullis-stack runs the whole product locally (`make run`): the
// example MCP server, the filter, the dev proxy and analytics, on embedded
// Kafka unless KAFKA_BROKERS names a real broker.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/portcullis/portcullis/e2e/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg stack.Config
	var brokers string
	flag.StringVar(&cfg.Root, "root", ".", "repository root")
	flag.StringVar(&brokers, "kafka-brokers", "", "real Kafka brokers (comma-separated); empty: embedded Kafka in -state-dir")
	flag.StringVar(&cfg.ClickHouseAddr, "clickhouse-addr", "127.0.0.1:19000", "ClickHouse native address")
	flag.StringVar(&cfg.StateDir, "state-dir", "", "state directory (default ROOT/tmp/stack)")
	flag.DurationVar(&cfg.BlockFor, "block-for", 0, "how long the deny-burst rule blocks an agent (default 1m)")
	flag.StringVar(&cfg.Catalog, "catalog", "", "run the registry on this catalog directory and have the filter follow it (default ROOT/config/catalog; \"-\" reads -policy instead)")
	flag.StringVar(&cfg.Policy, "policy", "", "static filter policy file, used with -catalog - (default ROOT/config/personas.yaml)")
	flag.Parse()
	if brokers != "" {
		cfg.KafkaBrokers = strings.Split(brokers, ",")
	}
	switch cfg.Catalog {
	case "":
		cfg.Catalog = filepath.Join(cfg.Root, "config", "catalog")
	case "-":
		cfg.Catalog = ""
	}
	cfg.Logs = os.Stderr
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "portcullis-stack:", err)
		os.Exit(1)
	}
	kafka := "embedded Kafka (kfake) at " + strings.Join(s.Brokers, ",")
	if brokers != "" {
		kafka = "Kafka at " + brokers
	}
	fmt.Fprintf(os.Stderr, `
Portcullis is running.
  gateway (Envoy emulation)  %s/p/support-agent/mcp   %s/p/reporting-agent/mcp
  %s
  ext_proc filter            127.0.0.1:9002 (gRPC)
  example MCP server         http://127.0.0.1:8081/mcp (needs the backend credential)
  decisions/verdicts         %s
  audit trail                ClickHouse %s, database portcullis
Try it: make demo   (Ctrl-C stops everything)

`, s.Gateway, s.Gateway, registryLine(s), kafka, cfg.ClickHouseAddr)
	if err := s.Wait(); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "portcullis-stack:", err)
		os.Exit(1)
	}
}

func registryLine(s *stack.Stack) string {
	if s.RegistryURL == "" {
		return "policy                     static file"
	}
	return fmt.Sprintf("registry (policy source)   %s  (admin token in %s; try bin/portcullis registry get --url %s --token-file %s personas)",
		s.RegistryURL, s.AdminTokenFile, s.RegistryURL, s.AdminTokenFile)
}
