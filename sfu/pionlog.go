package sfu

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLog carries Pion's logging into the server's own log, where an
// operator reads it, instead of Pion's default lines on standard error.
// Pion's errors are errors; its warnings, information and debugging
// lines are debug (Pion's default shows errors only: its warnings are
// about its own internals, such as the mux on an unspecified address
// the server uses on purpose); its traces, a line a packet, are dropped.
type pionLog struct{ log *slog.Logger }

func (f pionLog) NewLogger(scope string) logging.LeveledLogger {
	return pionScope{f.log.With("pion", scope)}
}

type pionScope struct{ log *slog.Logger }

func (l pionScope) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

// emitf formats only what the handler would write.
func (l pionScope) emitf(level slog.Level, format string, args []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (pionScope) Trace(string)                {}
func (pionScope) Tracef(string, ...any)       {}
func (l pionScope) Debug(msg string)          { l.emit(slog.LevelDebug, msg) }
func (l pionScope) Debugf(f string, a ...any) { l.emitf(slog.LevelDebug, f, a) }
func (l pionScope) Info(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l pionScope) Infof(f string, a ...any)  { l.emitf(slog.LevelDebug, f, a) }
func (l pionScope) Warn(msg string)           { l.emit(slog.LevelDebug, msg) }
func (l pionScope) Warnf(f string, a ...any)  { l.emitf(slog.LevelDebug, f, a) }
func (l pionScope) Error(msg string)          { l.emit(slog.LevelError, msg) }
func (l pionScope) Errorf(f string, a ...any) { l.emitf(slog.LevelError, f, a) }
