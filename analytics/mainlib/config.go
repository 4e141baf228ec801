package mainlib

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/portcullis/portcullis/analytics/internal/pipeline"
	"github.com/portcullis/portcullis/analytics/internal/rules"
	"github.com/portcullis/portcullis/analytics/internal/store"
)

// config is the service configuration, from flags.
type config struct {
	kafkaBrokers       []string
	clickhouseAddr     string
	clickhouseDatabase string
	clickhouseUser     string
	clickhousePassword string // read from -clickhouse-password-file
	decisionsTopic     string
	verdictsTopic      string
	group              string
	createTopics       bool
	denyThreshold      int
	denyWindow         time.Duration
	blockFor           time.Duration
	logLevel           zapcore.Level
}

// parseFlags parses args (without the program name). Every invalid value is
// reported, joined into one error. It returns flag.ErrHelp for -h.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("portcullis-analytics", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		c            config
		brokers      string
		passwordFile string
		logLevel     string
	)
	fs.StringVar(&brokers, "kafka-brokers", "", "comma-separated Kafka seed brokers, host:port (required)")
	fs.StringVar(&c.clickhouseAddr, "clickhouse-addr", store.DefaultAddr, "ClickHouse native protocol address, host:port")
	fs.StringVar(&c.clickhouseDatabase, "clickhouse-database", store.DefaultDatabase, "ClickHouse database (created and migrated at start)")
	fs.StringVar(&c.clickhouseUser, "clickhouse-user", store.DefaultUsername, "ClickHouse user")
	fs.StringVar(&passwordFile, "clickhouse-password-file", "", "file holding the ClickHouse password (default: no password)")
	fs.StringVar(&c.decisionsTopic, "decisions-topic", pipeline.DefaultDecisionsTopic, "Kafka topic of decision events")
	fs.StringVar(&c.verdictsTopic, "verdicts-topic", pipeline.DefaultVerdictsTopic, "compacted Kafka topic verdicts are published to")
	fs.StringVar(&c.group, "group", pipeline.DefaultGroup, "Kafka consumer group")
	fs.BoolVar(&c.createTopics, "create-topics", true, "create the decisions and verdicts topics at start if missing")
	fs.IntVar(&c.denyThreshold, "deny-threshold", rules.DefaultDenyThreshold, "denied calls of one agent within -deny-window that block it")
	fs.DurationVar(&c.denyWindow, "deny-window", rules.DefaultDenyWindow, "sliding window (event time) for -deny-threshold")
	fs.DurationVar(&c.blockFor, "block-for", rules.DefaultBlockFor, "how long a deny-burst block lasts")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}

	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.kafkaBrokers = append(c.kafkaBrokers, b)
		}
	}
	if len(c.kafkaBrokers) == 0 {
		errs = append(errs, errors.New("-kafka-brokers is required"))
	}
	if c.clickhouseAddr == "" {
		errs = append(errs, errors.New("-clickhouse-addr is empty"))
	}
	if c.decisionsTopic == "" || c.verdictsTopic == "" {
		errs = append(errs, errors.New("-decisions-topic and -verdicts-topic must not be empty"))
	} else if c.decisionsTopic == c.verdictsTopic {
		errs = append(errs, fmt.Errorf("-decisions-topic and -verdicts-topic are both %q", c.decisionsTopic))
	}
	if c.group == "" {
		errs = append(errs, errors.New("-group is empty"))
	}
	if c.denyThreshold < 1 {
		errs = append(errs, fmt.Errorf("-deny-threshold %d: must be at least 1", c.denyThreshold))
	}
	if c.denyWindow <= 0 {
		errs = append(errs, fmt.Errorf("-deny-window %s: must be positive", c.denyWindow))
	}
	if c.blockFor <= 0 {
		errs = append(errs, fmt.Errorf("-block-for %s: must be positive", c.blockFor))
	}
	lvl, err := zapcore.ParseLevel(logLevel)
	if err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	c.logLevel = lvl
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("-clickhouse-password-file: %w", err))
		}
		c.clickhousePassword = strings.TrimRight(string(b), "\r\n")
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("invalid flags: %w", err)
	}
	return c, nil
}
