package amili

import (
	"context"
	"time"
)

// BeforeSend is called immediately before each attempt of a registration, event or upload is
// written: after the token, the rate-limit wait and any retry backoff. It records the intent
// ("this request may reach Amili") and returns the time by which the request must start going
// out (zero: no limit). The client's own transport checks it at the request's first write on
// its connection, before any byte of the request leaves; a request too late then is abandoned
// with an error wrapping ErrNotSent. An error from the hook abandons the call unsent in the
// same way. (A caller's own Config.HTTPClient has no such check.)
type BeforeSend func(ctx context.Context) (sendBy time.Time, err error)

type beforeSendKey struct{}

// WithBeforeSend returns a context whose calls run hook before every attempt that may change
// something at Amili (as net/http/httptrace carries a ClientTrace).
func WithBeforeSend(ctx context.Context, hook BeforeSend) context.Context {
	return context.WithValue(ctx, beforeSendKey{}, hook)
}

func beforeSendFrom(ctx context.Context) BeforeSend {
	h, _ := ctx.Value(beforeSendKey{}).(BeforeSend)
	return h
}
