// Package amili is the client for Amili's invoicing and debt-collection API.
//
// A Client authenticates (JWT api-code flow, the simple api-code method, or a pre-issued
// token), keeps its access token fresh, paces every request through one shared rate limiter,
// retries what is safe to retry and nothing else, and turns every failure into an *Error whose
// Class tells the caller what it may do next.
//
// The one rule that shapes the retry logic: Amili has no idempotency key, so a registration,
// payment, crediting or cancellation POST is sent at most once per call. When its outcome is
// unknown (the request was written but no answer came, or the server answered 5xx) the call
// returns an InDoubt error and the caller must look the registration up before sending it
// again. GETs and media uploads are repeatable and are retried with backoff.
//
// The request and response types live in types.go (and, for the two registrations, in package
// mapping); the error type in errors.go.
package amili
