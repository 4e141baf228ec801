package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/portcullis/portcullis/analytics/internal/rules"
)

// Defaults of [Config].
const (
	// DefaultGroup is the default [Config.Group].
	DefaultGroup = "portcullis-analytics"
	// DefaultMaxBatch is the default [Config.MaxBatch].
	DefaultMaxBatch = 10_000
	// DefaultRetryInitial is the default [Config.RetryInitial].
	DefaultRetryInitial = 100 * time.Millisecond
	// DefaultRetryMax is the default [Config.RetryMax].
	DefaultRetryMax = 10 * time.Second
	// DefaultCommitTimeout is the default [Config.CommitTimeout].
	DefaultCommitTimeout = 10 * time.Second
)

// Config configures a [Pipeline]. Every zero value means the documented
// default, except Brokers, which is required.
type Config struct {
	// Brokers are the seed brokers (host:port). Required.
	Brokers []string
	// Group is the consumer group. Defaults to DefaultGroup
	// ("portcullis-analytics").
	Group string
	// Topics names the topics; see [Topics] for defaults.
	Topics Topics
	// MaxBatch caps the records of one poll, and so of one store batch.
	// Defaults to DefaultMaxBatch (10000).
	MaxBatch int
	// RetryInitial is the first wait after a failed step; the wait doubles
	// (with up to 20% jitter) after every further failure of the same step.
	// Defaults to DefaultRetryInitial (100ms).
	RetryInitial time.Duration
	// RetryMax caps the wait between retries. Defaults to DefaultRetryMax (10s).
	RetryMax time.Duration
	// CommitTimeout bounds the commit of a stored batch. The commit runs even
	// when the context was cancelled after the batch was stored, so a clean
	// stop does not cause redelivery. Defaults to DefaultCommitTimeout (10s).
	CommitTimeout time.Duration
	// Rules receive every stored decision, in record order. Defaults to none.
	Rules []rules.Rule
	// NewVerdictID returns the id of a new verdict. Defaults to a random
	// UUID (uuid.NewString).
	NewVerdictID func() string
	// Logger receives retries, fetch errors and failed commits. Defaults to
	// zap.NewNop().
	Logger *zap.Logger
	// ClientOpts are appended to the Kafka client's options (after the ones
	// the pipeline sets, so they win): timeouts, TLS, SASL, test tuning.
	// Defaults to none.
	ClientOpts []kgo.Opt
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers"))
	}
	if c.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("max batch %d is negative", c.MaxBatch))
	}
	if c.RetryInitial < 0 || c.RetryMax < 0 {
		errs = append(errs, fmt.Errorf("retry backoff %s..%s is negative", c.RetryInitial, c.RetryMax))
	}
	if c.CommitTimeout < 0 {
		errs = append(errs, fmt.Errorf("commit timeout %s is negative", c.CommitTimeout))
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	c.Topics = c.Topics.withDefaults()
	if c.Topics.Decisions == c.Topics.Verdicts {
		errs = append(errs, fmt.Errorf("decisions and verdicts topics are both %q", c.Topics.Decisions))
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = DefaultRetryInitial
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryInitial {
		c.RetryMax = c.RetryInitial
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.NewVerdictID == nil {
		c.NewVerdictID = uuid.NewString
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, errors.Join(errs...)
}
