package pipeline

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// kgoLogger forwards the Kafka client's warnings and errors to zap.
type kgoLogger struct{ z *zap.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		k, _ := keyvals[i].(string)
		fields = append(fields, zap.Any(k, keyvals[i+1]))
	}
	switch level {
	case kgo.LogLevelError:
		l.z.Error(msg, fields...)
	case kgo.LogLevelWarn:
		l.z.Warn(msg, fields...)
	case kgo.LogLevelInfo:
		l.z.Info(msg, fields...)
	default:
		l.z.Debug(msg, fields...)
	}
}
