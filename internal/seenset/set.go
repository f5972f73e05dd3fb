// Package seenset is an open-addressing set of 64-bit keys with a value each, kept outside
// the Go heap where the system allows, for sets of millions of keys that the garbage
// collector should neither scan nor double.
package seenset

import "math/bits"

// Set remembers 64-bit keys, each with a 64-bit value recorded when it was first added: the
// mapping package keeps a hash of every invoice number met in a file, with the content hash and
// line of its first appearance, for the within-file duplicate check.
//
// It is an open-addressing hash table of 16-byte entries, about 20 bytes per number: a file
// of a million invoice numbers costs about 20 MB (the built-in map took about 37 MB). On
// Unix the entries live outside the Go heap (anonymous mmap), so the garbage collector
// neither scans them nor lets the heap grow by as much again before collecting: a large file
// costs its index and no more. The table is split into seenShards shards that grow one at a
// time by a quarter, so growing never copies more than a small shard. Free returns the
// memory; the Reader frees it at the end of the file, or when it is collected.
//
// Keys are hashes, not the numbers themselves: two different invoice numbers of one file
// whose 64-bit hashes collide would be reported as a duplicate. With n distinct numbers the
// chance is about n²/2^65 (3e-8 for a million); the hash seed is random per Reader, so a
// rerun of the same file does not repeat such a collision.
type Set struct {
	shards [seenShards]seenShard
}

// seenShards is the number of independently growing tables; a power of two.
const seenShards = 256

// seenEntry is one invoice number: its hash (0 marks an empty slot) and what was recorded with
// it.
type seenEntry struct {
	key uint64
	val uint64 // content hash<<32 | line
}

type seenShard struct {
	slots  []seenEntry
	n      int
	mapped bool // slots came from allocEntries' mmap, not the Go heap
}

// seenMinSlots is a shard's first size; seenMaxLoad is the fill (n/slots, in 1/16s) at which
// it grows by a quarter.
// Sizes are whole 4 KiB pages (256 entries) so that mmap wastes nothing.
const (
	seenMinSlots = 256
	seenMaxLoad  = 13 // 0.8125
)

// LookupOrAdd returns the value recorded for key and true, or records val for key and returns
// false.
func (s *Set) LookupOrAdd(key, val uint64) (uint64, bool) {
	if key == 0 {
		key = 1 // 0 marks empty slots
	}
	sh := &s.shards[key&(seenShards-1)]
	if (sh.n+1)*16 > len(sh.slots)*seenMaxLoad {
		sh.grow()
	}
	i := sh.home(key)
	for {
		e := &sh.slots[i]
		switch e.key {
		case key:
			return e.val, true
		case 0:
			e.key, e.val = key, val
			sh.n++
			return 0, false
		}
		if i++; i == len(sh.slots) {
			i = 0
		}
	}
}

// Len is the number of keys recorded.
func (s *Set) Len() int {
	n := 0
	for i := range s.shards {
		n += s.shards[i].n
	}
	return n
}

// home is key's first slot. The shard was chosen by the low bits; the high bits pick the slot
// (multiply-shift, so any table size works).
func (sh *seenShard) home(key uint64) int {
	hi, _ := bits.Mul64(key, uint64(len(sh.slots)))
	return int(hi)
}

// grow rebuilds the shard a quarter larger (seenMinSlots at first), in whole pages.
func (sh *seenShard) grow() {
	old, oldMapped := sh.slots, sh.mapped
	size := max(seenMinSlots, len(old)+len(old)/4)
	size = (size + seenMinSlots - 1) / seenMinSlots * seenMinSlots
	sh.slots, sh.mapped = allocEntries(size)
	for _, e := range old {
		if e.key == 0 {
			continue
		}
		i := sh.home(e.key)
		for sh.slots[i].key != 0 {
			if i++; i == len(sh.slots) {
				i = 0
			}
		}
		sh.slots[i] = e
	}
	if oldMapped {
		freeEntries(old)
	}
}

// Free releases the set's memory and empties it; it may be used again afterwards.
func (s *Set) Free() {
	for i := range s.shards {
		sh := &s.shards[i]
		if sh.mapped {
			freeEntries(sh.slots)
		}
		*sh = seenShard{}
	}
}
