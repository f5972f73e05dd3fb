// Package logging sets up amili-import's one slog logger: tint (colour, short times) when
// stderr is a terminal, JSON lines otherwise, and a redactor in front of both that masks
// Swedish personal identity numbers and the values of secret-named attributes wherever they
// appear, as a last line of defence behind code that should never log them in the first place.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/amili-import/amili-import/internal/redact"
	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// Options selects the level and format.
type Options struct {
	Level  string // debug, info, warn, error; default info
	Format string // auto (default), text, json
}

// ParseLevel turns a level name into a slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a logger writing to w.
func New(w io.Writer, opts Options) (*slog.Logger, error) {
	level, err := ParseLevel(opts.Level)
	if err != nil {
		return nil, err
	}
	tty := isTerminal(w)
	format := opts.Format
	if format == "" || format == "auto" {
		format = "json"
		if tty {
			format = "text"
		}
	}
	var h slog.Handler
	switch format {
	case "text":
		// Colour codes are for a terminal; in a file or a pipe they are noise in every line.
		h = tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, ReplaceAttr: redactAttr, NoColor: !tty})
	case "json":
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr})
	default:
		return nil, fmt.Errorf("log format %q: want auto, text or json", opts.Format)
	}
	return slog.New(&redactor{h}), nil
}

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// MaskIDNumbers replaces the last four digits of every identity number in s with ****
// (redact.IDNumbers).
func MaskIDNumbers(s string) string { return redact.IDNumbers(s) }

// secretWords are the name fragments that mark an attribute as holding a secret.
var secretWords = []string{"token", "password", "passphrase", "api_code", "apicode", "secret", "private_key", "authorization", "x-api-key"}

// secretKey reports whether an attribute's name says it holds a secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretWords {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// redactAttr masks secrets and identity numbers, and writes durations and times for a person:
// a duration as HumanDuration does (JSON would give nanoseconds), and a zero time, which says
// that none is known, not at all.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindDuration:
		return slog.String(a.Key, HumanDuration(a.Value.Duration()))
	case slog.KindTime:
		if a.Value.Time().IsZero() {
			return slog.Attr{}
		}
	}
	if secretKey(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, "[redacted]")
	}
	if a.Value.Kind() == slog.KindString {
		if s := a.Value.String(); s != "" {
			if m := MaskIDNumbers(s); m != s {
				return slog.String(a.Key, m)
			}
		}
	}
	if a.Value.Kind() == slog.KindAny {
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, MaskIDNumbers(err.Error()))
		}
	}
	return a
}

// redactor masks identity numbers in messages; attributes are handled by redactAttr.
type redactor struct{ slog.Handler }

func (r *redactor) Handle(ctx context.Context, rec slog.Record) error {
	if m := MaskIDNumbers(rec.Message); m != rec.Message {
		rec.Message = m
	}
	return r.Handler.Handle(ctx, rec)
}

// WithAttrs keeps the redactor in front; the inner handler's ReplaceAttr (redactAttr) already
// rewrites attributes added here, so they are passed on as they are.
func (r *redactor) WithAttrs(as []slog.Attr) slog.Handler {
	return &redactor{r.Handler.WithAttrs(as)}
}

func (r *redactor) WithGroup(name string) slog.Handler { return &redactor{r.Handler.WithGroup(name)} }

// HumanDuration writes d as a person would read it in a log: 2µs, 340ms, 1.2s, 2m3s. The
// precision falls with the size, since nobody reading "2m3.456789s" wants the last digits.
func HumanDuration(d time.Duration) string {
	a := d.Abs()
	switch {
	case a >= time.Minute:
		return d.Round(time.Second).String()
	case a >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case a >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
