package source

import "time"

// SetBackoff shortens the reconnect backoff for tests that exhaust it.
func SetBackoff(d time.Duration) { firstBackoff = d }
