package amili

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/amili-import/amili-import/internal/redact"
)

// Class says what a caller may do after a failed call.
type Class int

const (
	// Permanent: the request is wrong (4xx other than 401 and 429). Do not retry; fix the input.
	Permanent Class = iota + 1
	// Retryable: nothing reached the server, or it refused before acting (429, connection
	// refused, a 5xx on a GET or an upload). Safe to send again.
	Retryable
	// InDoubt: a registration POST whose outcome is unknown (a timeout or a dropped connection
	// after the request was written, or a 5xx). Amili has no idempotency key, so it must not be
	// sent again before the registration has been looked up.
	InDoubt
	// Unauthorized: authentication failed even after one fresh token.
	Unauthorized
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Retryable:
		return "retryable"
	case InDoubt:
		return "in doubt"
	case Unauthorized:
		return "unauthorized"
	}
	return "unknown"
}

// Error is every error a call to Amili returns.
type Error struct {
	Op         string // what was being done, e.g. "register invoice INV-1"
	Class      Class
	StatusCode int    // HTTP status; 0 when no response arrived
	Code       int    // _error.code
	Message    string // _error.message
	// Fields holds the API's per-field messages, from _error.details and Eve's _issues.
	Fields map[string]string
	Err    error // the transport error, when there was one
	// Accepted: Amili answered 2xx, so the request was committed, but the answer could not be
	// read. Such a registration must never be sent again; its ids come from a lookup.
	Accepted bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if e.Message != "" {
			b.WriteString(" ")
			b.WriteString(e.Message)
		}
		if e.Err != nil {
			// The status came, then something else failed (reading the answer, for one).
			b.WriteString(", then ")
			b.WriteString(e.Err.Error())
		}
	} else {
		b.WriteString(e.Message)
		if e.Err != nil {
			if e.Message != "" {
				b.WriteString(": ")
			}
			b.WriteString(e.Err.Error())
		}
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", k, e.Fields[k])
		}
		b.WriteString(")")
	}
	// Amili's texts are masked and bounded when the error is built; the whole is bounded too,
	// as many fields add up.
	s := redact.Bound(b.String(), redact.MaxText)
	b.Reset()
	b.WriteString(s)
	switch {
	case e.Accepted:
		b.WriteString(" [accepted; answer unreadable]")
	case e.Class == InDoubt:
		b.WriteString(" [outcome unknown]")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err, or 0 when err is not an *Error.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return 0
}

// ErrNotSent marks a call that was abandoned before any byte of its request left: the hook set
// with WithBeforeSend refused it, or the request could not start going out by the time the hook
// set.
var ErrNotSent = errors.New("not sent")

// IsInDoubt reports whether err leaves a registration's outcome unknown.
func IsInDoubt(err error) bool { return ClassOf(err) == InDoubt }

// IsPermanent reports whether err is the API refusing the request as it is.
func IsPermanent(err error) bool { return ClassOf(err) == Permanent }
