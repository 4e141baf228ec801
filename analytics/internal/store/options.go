package store

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.uber.org/zap"
)

// Defaults of [Options].
const (
	// DefaultAddr is the default [Options.Addr]: ClickHouse's native port on
	// the local host.
	DefaultAddr = "127.0.0.1:9000"
	// DefaultDatabase is the default [Options.Database].
	DefaultDatabase = "portcullis"
	// DefaultUsername is the default [Options.Username].
	DefaultUsername = "default"
	// DefaultDialTimeout is the default [Options.DialTimeout].
	DefaultDialTimeout = 5 * time.Second
	// DefaultReadTimeout is the default [Options.ReadTimeout].
	DefaultReadTimeout = time.Minute
	// DefaultMaxOpenConns is the default [Options.MaxOpenConns].
	DefaultMaxOpenConns = 4
)

// Options configures a [Store]. Every zero value means the documented
// default.
type Options struct {
	// Addr is the host:port of ClickHouse's native protocol. Defaults to
	// DefaultAddr ("127.0.0.1:9000").
	Addr string
	// Database holds the tables; Migrate creates it. Letters, digits and
	// underscores only. Defaults to DefaultDatabase ("portcullis").
	Database string
	// Username defaults to DefaultUsername ("default").
	Username string
	// Password defaults to empty.
	Password string
	// DialTimeout bounds opening one connection. Defaults to
	// DefaultDialTimeout (5s).
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for one server response. Defaults to
	// DefaultReadTimeout (1m).
	ReadTimeout time.Duration
	// MaxOpenConns caps the connection pool. Defaults to DefaultMaxOpenConns (4).
	MaxOpenConns int
	// Logger receives migration progress. Defaults to zap.NewNop().
	Logger *zap.Logger
	// Now stamps ingested_at / inserted_at / applied_at. Defaults to time.Now.
	Now func() time.Time
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// withDefaults validates o and returns it with defaults applied.
func (o Options) withDefaults() (Options, error) {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	if !identRE.MatchString(o.Database) {
		errs = append(errs, fmt.Errorf("database name %q: use letters, digits and underscores only", o.Database))
	}
	if o.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout %s is negative", o.DialTimeout))
	}
	if o.ReadTimeout < 0 {
		errs = append(errs, fmt.Errorf("read timeout %s is negative", o.ReadTimeout))
	}
	if o.MaxOpenConns < 0 {
		errs = append(errs, fmt.Errorf("max open connections %d is negative", o.MaxOpenConns))
	}
	return o, errors.Join(errs...)
}
