package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every verb's -h prints its usage and exits 0; a flag it does not know exits 2.
func TestEveryVerbsHelpExitsZero(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{name, "-h"}, &out, &errb); code != exitOK {
				t.Errorf("%s -h: exit %d, want %d", name, code, exitOK)
			}
			if got := errb.String(); !strings.Contains(got, "Usage:") || !strings.Contains(got, "amili-import "+name) {
				t.Errorf("%s -h printed no usage: %q", name, errb.String())
			}
			errb.Reset()
			if code := run(context.Background(), []string{name, "--no-such-flag"}, &out, &errb); code != exitNoStart {
				t.Errorf("%s --no-such-flag: exit %d, want %d", name, code, exitNoStart)
			}
		})
	}
}
