package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/metrics"
)

type noRuns struct{}

func (noRuns) LastSuccessfulRun(context.Context, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}

// countingRunner counts the runs of each job of the config it was built for.
type countingRunner struct {
	cfg  string
	mu   *sync.Mutex
	runs map[string]int
}

func (r countingRunner) RunJob(_ context.Context, j config.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[r.cfg+"/"+j.Name]++
	return nil
}

func (countingRunner) RunReport(context.Context, config.Report) error { return nil }

func parse(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(src), t.Name()+".yaml", func(string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const every = "amili:\n  auth: {token_env: T}\njobs:\n  - name: %s\n    schedule: \"@every 1s\"\n    source: {dir: /in}\n"

// A reload swaps the runner and the schedules; a config that does not load is refused and the
// running one kept; SIGTERM stops the service cleanly.
func TestReloadSwapsRunnerAndRefusesABrokenConfig(t *testing.T) {
	var mu sync.Mutex
	runs := map[string]int{}
	next := fmt.Sprintf(every, "b")
	loadErr := error(nil)
	svc, err := New(parse(t, fmt.Sprintf(every, "a")), Options{
		Load: func() (*config.Config, error) {
			if loadErr != nil {
				return nil, loadErr
			}
			return parse(t, next), nil
		},
		NewRunner: func(cfg *config.Config) (Runner, error) {
			return countingRunner{cfg: cfg.Jobs[0].Name, mu: &mu, runs: runs}, nil
		},
		Ledger: noRuns{}, Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler),
		DrainTimeout: func(*config.Config) time.Duration { return 5 * time.Second },
	})
	if err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 3)
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background(), sigs) }()
	count := func(k string) int { mu.Lock(); defer mu.Unlock(); return runs[k] }
	waitFor := func(k string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count(k) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never ran: %v", k, runs)
			}
		}
	}
	waitFor("a/a")
	sigs <- syscall.SIGHUP
	waitFor("b/b")
	loadErr = errors.New("broken")
	sigs <- syscall.SIGHUP
	before := count("b/b")
	time.Sleep(2500 * time.Millisecond)
	if count("b/b") <= before {
		t.Errorf("after a refused reload job b stopped running (%d runs)", count("b/b"))
	}
	sigs <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not stop on SIGTERM")
	}
}

func TestCheckSchedules(t *testing.T) {
	if _, err := CheckSchedules(parse(t, "amili:\n  auth: {token_env: T}\njobs:\n  - name: a\n    source: {dir: /in}\n")); err == nil {
		t.Error("a config with nothing scheduled was accepted")
	}
	var es config.Errors
	_, err := CheckSchedules(parse(t, "daemon: {lease_ttl: 1s}\n"+fmt.Sprintf(every, "a")))
	if !errors.As(err, &es) || es[0].Key != "daemon.lease_ttl" {
		t.Errorf("lease_ttl 1s: got %v, want an error on daemon.lease_ttl", err)
	}
}

func TestOutcome(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, metrics.OutcomeOK},
		{context.Canceled, metrics.OutcomeCancelled},
		{fmt.Errorf("%w: %w", importer.ErrCannotStart, ledger.ErrOwnerLost), metrics.OutcomeCancelled},
		{importer.ErrCannotStart, metrics.OutcomeFailed},
	} {
		if got := Outcome(importer.Summary{}, tt.err); got != tt.want {
			t.Errorf("Outcome(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
