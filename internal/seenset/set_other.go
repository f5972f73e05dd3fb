//go:build !unix

package seenset

// allocEntries returns n zeroed entries from the Go heap (no mmap here), reporting false.
func allocEntries(n int) ([]seenEntry, bool) { return make([]seenEntry, n), false }

// freeEntries is never called for heap entries.
func freeEntries([]seenEntry) {}
