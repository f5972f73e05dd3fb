package amili

import (
	"context"
	"time"
)

// BeforeSend is called immediately before each attempt of a registration, event or upload is
// written: after the token, the rate-limit wait and any retry backoff. It records the intent
// ("this request may reach Amili") and returns how soon after it the request must have started
// going out (0: no limit); a request that could not start in time is abandoned unwritten. An
// error abandons the call unsent: the client returns an error wrapping ErrNotSent and the hook's.
type BeforeSend func(ctx context.Context) (within time.Duration, err error)

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
