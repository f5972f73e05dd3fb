package schedules

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/syncbuf"
)

func newLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// lastRuns is a fake ledger answering LastSuccessfulRun.
type lastRuns map[string]time.Time

func (l lastRuns) LastSuccessfulRun(_ context.Context, job string) (time.Time, bool, error) {
	t, ok := l[job]
	return t, ok, nil
}

// TestOverrunSkipsNextTick runs the real cron runner: a task on @every 1s that takes 2.5s
// runs once, and the ticks that came while it ran are skipped and logged.
func TestOverrunSkipsNextTick(t *testing.T) {
	log, buf := newLogger()
	s := New(Options{Logger: log})
	var runs atomic.Int32
	started := make(chan struct{}, 4)
	_, err := s.Set([]Task{{Name: "slow", Spec: "@every 1s", Run: func(ctx context.Context) error {
		runs.Add(1)
		started <- struct{}{}
		time.Sleep(2500 * time.Millisecond)
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	select {
	case <-started:
	case <-time.After(3 * time.Second):
		t.Fatal("the task never started")
	}
	// Ticks come 1s and 2s into the run; stop scheduling before the one at 3s.
	time.Sleep(2200 * time.Millisecond)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("ran %d times, want 1", got)
	}
	out := buf.String()
	if n := strings.Count(out, `"msg":"run skipped: the previous run is still going","job":"slow"`); n < 1 {
		t.Errorf("no skip logged for job slow:\n%s", out)
	}
}

func TestCatchUp(t *testing.T) {
	loc := stockholm(t)
	now := utc("2026-05-10T08:00:00Z")
	log, buf := newLogger()
	s := New(Options{Location: loc, Logger: log, Now: func() time.Time { return now },
		LastRuns: lastRuns{
			"stale":    utc("2026-05-09T00:31:00Z"), // yesterday's 02:30 run: today's was missed
			"fresh":    utc("2026-05-10T00:31:00Z"),
			"no-catch": utc("2026-05-01T00:31:00Z"),
		}})
	var mu sync.Mutex
	ran := map[string]int{}
	done := make(chan string, 10)
	task := func(name, spec string, catchUp bool) Task {
		return Task{Name: name, Spec: spec, CatchUp: catchUp, Run: func(context.Context) error {
			mu.Lock()
			ran[name]++
			mu.Unlock()
			done <- name
			return nil
		}}
	}
	if _, err := s.Set([]Task{
		task("stale", "30 2 * * *", true),
		task("fresh", "30 2 * * *", true),
		task("never", "30 2 * * *", true),
		task("no-catch", "30 2 * * *", false),
		task("unscheduled", "", true),
	}); err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("catch-up runs did not happen")
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"stale": 1, "never": 1}
	if len(ran) != len(want) || ran["stale"] != 1 || ran["never"] != 1 {
		t.Errorf("ran %v, want %v", ran, want)
	}
	if !strings.Contains(buf.String(), `"msg":"catch-up: a scheduled run was missed; running now","job":"stale"`) {
		t.Errorf("catch-up of stale not logged:\n%s", buf.String())
	}
}

// startOne starts a scheduler whose only task runs at once (catch-up, never ran before).
func startOne(t *testing.T, log *slog.Logger, run func(ctx context.Context) error) *Scheduler {
	t.Helper()
	s := New(Options{Logger: log, LastRuns: lastRuns{}})
	if _, err := s.Set([]Task{{Name: "j", Spec: "@daily", CatchUp: true, Run: run}}); err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	return s
}

func TestShutdown(t *testing.T) {
	t.Run("DrainsInFlightRun", func(t *testing.T) {
		started, release := make(chan struct{}), make(chan struct{})
		var cancelled atomic.Bool
		var finished atomic.Bool
		s := startOne(t, nil, func(ctx context.Context) error {
			close(started)
			<-release
			cancelled.Store(ctx.Err() != nil)
			finished.Store(true)
			return nil
		})
		<-started
		if !s.Running() {
			t.Error("Running() = false while started")
		}
		go func() { time.Sleep(100 * time.Millisecond); close(release) }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown = %v, want nil", err)
		}
		if !finished.Load() || cancelled.Load() {
			t.Errorf("finished=%v cancelled=%v, want the run to finish uncancelled", finished.Load(), cancelled.Load())
		}
		if s.Running() {
			t.Error("Running() = true after Shutdown")
		}
	})
	t.Run("CancelsWhenDrainTimeIsUp", func(t *testing.T) {
		started := make(chan struct{})
		var recorded atomic.Bool
		log, buf := newLogger()
		s := startOne(t, log, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond) // record what was done
			recorded.Store(true)
			return ctx.Err()
		})
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Shutdown(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
		}
		if !recorded.Load() {
			t.Error("Shutdown returned before the cancelled run returned")
		}
		if !strings.Contains(buf.String(), "cancelling the runs in progress") {
			t.Errorf("no drain message logged:\n%s", buf.String())
		}
	})
	t.Run("NoRunAfterShutdown", func(t *testing.T) {
		s := New(Options{})
		var runs atomic.Int32
		s.Set([]Task{{Name: "j", Spec: "@every 1s", Run: func(context.Context) error { runs.Add(1); return nil }}})
		s.Start(context.Background())
		s.Shutdown(context.Background())
		time.Sleep(1200 * time.Millisecond)
		if n := runs.Load(); n != 0 {
			t.Errorf("ran %d times after Shutdown", n)
		}
	})
}

func TestRecoverPanic(t *testing.T) {
	log, buf := newLogger()
	ran := make(chan struct{})
	s := New(Options{Logger: log, LastRuns: lastRuns{}})
	s.Set([]Task{
		{Name: "boom", Spec: "@daily", CatchUp: true, Run: func(context.Context) error { panic("kaboom") }},
		{Name: "fine", Spec: "@daily", CatchUp: true, Run: func(context.Context) error { close(ran); return nil }},
	})
	s.Start(context.Background())
	<-ran
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "kaboom") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Shutdown(context.Background())
	out := buf.String()
	if !strings.Contains(out, `"level":"ERROR","msg":"cron: panic","job":"boom"`) || !strings.Contains(out, "kaboom") {
		t.Errorf("panic not logged as an error of job boom:\n%s", out)
	}
}

func TestSet(t *testing.T) {
	s := New(Options{Location: stockholm(t)})
	noop := func(context.Context) error { return nil }
	if _, err := s.Set([]Task{
		{Name: "a", Spec: "@hourly", Run: noop},
		{Name: "b", Spec: "30 2 * * *", Run: noop},
		{Kind: "report", Name: "a", Spec: "0 7 * * 1", Run: noop},
	}); err != nil {
		t.Fatal(err)
	}
	t.Run("BadSpecChangesNothing", func(t *testing.T) {
		_, err := s.Set([]Task{{Name: "a", Spec: "@hourly", Run: noop}, {Name: "c", Spec: "99 * * * *", Run: noop}})
		if err == nil || !strings.Contains(err.Error(), "job c: schedule:") {
			t.Fatalf("Set = %v, want an error naming job c's schedule", err)
		}
		if len(s.entries) != 3 {
			t.Errorf("%d tasks after a refused Set, want the 3 before", len(s.entries))
		}
	})
	t.Run("DuplicateName", func(t *testing.T) {
		_, err := s.Set([]Task{{Name: "a", Run: noop}, {Name: "a", Run: noop}})
		if err == nil || !strings.Contains(err.Error(), "job a: name used twice") {
			t.Fatalf("Set = %v", err)
		}
	})
	t.Run("Diff", func(t *testing.T) {
		changes, err := s.Set([]Task{
			{Name: "a", Spec: "@every 15m", Run: noop},
			{Name: "c", Spec: "0 1 * * *", Run: noop},
			{Kind: "report", Name: "a", Spec: "0 7 * * 1", Run: noop},
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range changes {
			got = append(got, c.String())
		}
		want := []string{
			`job a rescheduled from "@hourly" to "@every 15m"`,
			`job b removed`,
			`job c added (schedule "0 1 * * *")`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := len(s.cron.Entries()); n != 3 {
			t.Errorf("cron has %d entries, want 3", n)
		}
	})
}

// TestReaddedTaskDoesNotOverlap: a task removed and added again by a reload while its run goes
// on still skips ticks until that run ends.
func TestReaddedTaskDoesNotOverlap(t *testing.T) {
	log, buf := newLogger()
	var runs atomic.Int32
	started, release := make(chan struct{}, 4), make(chan struct{})
	run := func(context.Context) error {
		runs.Add(1)
		started <- struct{}{}
		<-release
		return nil
	}
	s := startOne(t, log, run)
	<-started
	if _, err := s.Set(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set([]Task{{Name: "j", Spec: "@every 1s", Run: run}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "run skipped") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	s.Shutdown(context.Background())
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times, want 1: the re-added task overlapped its own run", n)
	}
	if !strings.Contains(buf.String(), `"msg":"run skipped: the previous run is still going","job":"j"`) {
		t.Errorf("no skip logged:\n%s", buf.String())
	}
}
