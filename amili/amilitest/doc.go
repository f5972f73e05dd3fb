// Package amilitest is an in-memory Amili sandbox: a real HTTP server over in-memory state, in
// the style of net/http/httptest, that speaks the contract in Amili's guides. Tests, benchmarks,
// the demo and the "amili-import sandbox" verb all talk to it over real HTTP, so the client, its
// retries and its error handling are exercised exactly as against the real API.
//
// It seeds one account with an active creditor (the guides' own ids, so their example bodies
// work verbatim) and an inactive one; validates registrations as strictly as Amili documents and
// no more; keeps cases with the guide's shape; authenticates with JWTs, static tokens or the
// simple api-code method; limits rates like Amili; and injects faults on demand (latency, 5xx,
// 429 storms, "stored then failed" and "stored then dropped"). Inspection methods tell a test
// what the server received and holds.
//
// When Options names no credentials at all (no Tokens, APICodes or SimpleAPICodes) every
// request is accepted without a token; configure at least one to have 401s.
package amilitest
