//go:build unix

package seenset

import (
	"syscall"
	"unsafe"
)

// allocEntries returns n zeroed entries in anonymous memory outside the Go heap, reporting
// true; when the system refuses, entries from the heap and false.
func allocEntries(n int) ([]seenEntry, bool) {
	size := n * int(unsafe.Sizeof(seenEntry{}))
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]seenEntry, n), false
	}
	return unsafe.Slice((*seenEntry)(unsafe.Pointer(unsafe.SliceData(b))), n), true
}

// freeEntries returns entries from allocEntries to the system. They must not be used again.
func freeEntries(e []seenEntry) {
	if len(e) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(e))), len(e)*int(unsafe.Sizeof(seenEntry{})))
	_ = syscall.Munmap(b)
}
