//go:build !unix

package mapping

import "time"

// processCPU is not measured on this platform; benchmarks then skip the per-CPU metric.
func processCPU() time.Duration { return 0 }
