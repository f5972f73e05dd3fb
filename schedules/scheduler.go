package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Task is one piece of scheduled work.
type Task struct {
	// Kind is "job" or "report"; it is also the log attribute that names the task
	// (job=invoices). Empty means "job".
	Kind string
	// Name is unique within its kind.
	Name string
	// Spec is the cron spec; empty means the task is known but not scheduled.
	Spec string
	// CatchUp asks for a run at start when the last successful run is older than one
	// interval (see Options.LastRuns).
	CatchUp bool
	// Run does the work. Its context is cancelled only when a stop's drain time is up. Run
	// logs its own outcome; the scheduler logs only panics and skipped ticks.
	Run func(ctx context.Context) error
}

func (t Task) kind() string {
	if t.Kind == "" {
		return "job"
	}
	return t.Kind
}

func (t Task) key() string { return t.kind() + " " + t.Name }

// LastRuns tells when a job last finished successfully (*ledger.Ledger has this method).
type LastRuns interface {
	LastSuccessfulRun(ctx context.Context, job string) (time.Time, bool, error)
}

// Options configure a Scheduler.
type Options struct {
	// Location is the default zone of specs (nil = UTC; the daemon passes the configured
	// time_zone).
	Location *time.Location
	// Logger receives schedule, catch-up, skip and panic messages; nil discards.
	Logger *slog.Logger
	// Now is the clock used for catch-up decisions and logged next runs (nil = time.Now).
	// The cron runner itself runs on real time.
	Now func() time.Time
	// LastRuns, when set, enables catch-up of tasks with CatchUp set.
	LastRuns LastRuns
}

// Scheduler fires tasks on their schedules. Make it with New, give it tasks with Set, Start
// it, and Shutdown it.
type Scheduler struct {
	opts Options
	log  *slog.Logger
	cron *cron.Cron

	runCtx     context.Context
	cancelRuns context.CancelFunc

	mu      sync.Mutex
	entries map[string]*entry
	// jobs keeps each task's wrapped job by key for the scheduler's life, so that a task
	// removed and added again while its run goes on still never overlaps itself.
	jobs     map[string]cron.Job
	inflight sync.WaitGroup
	started  bool
	stopping bool
}

type entry struct {
	task  Task
	sched cron.Schedule // nil when not scheduled
	id    cron.EntryID
	job   cron.Job // wrapped (recover, skip-if-running); kept across reschedules
	log   *slog.Logger
}

// New returns a scheduler with no tasks.
func New(opts Options) *Scheduler {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		opts:       opts,
		log:        opts.Logger,
		cron:       cron.New(cron.WithLocation(opts.Location), cron.WithLogger(CronLogger(opts.Logger))),
		runCtx:     ctx,
		cancelRuns: cancel,
		entries:    map[string]*entry{},
		jobs:       map[string]cron.Job{},
	}
}

// Change is one difference a Set made.
type Change struct {
	Kind, Name string
	// What is "added", "removed" or "rescheduled".
	What string
	// Old and New are the specs before and after.
	Old, New string
}

func (c Change) String() string {
	switch c.What {
	case "added":
		return fmt.Sprintf("%s %s added (schedule %q)", c.Kind, c.Name, c.New)
	case "removed":
		return fmt.Sprintf("%s %s removed", c.Kind, c.Name)
	}
	return fmt.Sprintf("%s %s rescheduled from %q to %q", c.Kind, c.Name, c.Old, c.New)
}

// Set replaces the scheduler's tasks. Every spec is checked first: on an error nothing
// changes. A task whose spec changed is rescheduled; a run in progress is not interrupted, and
// the task still never overlaps itself.
func (s *Scheduler) Set(tasks []Task) ([]Change, error) {
	scheds := make(map[string]cron.Schedule, len(tasks))
	var errs []error
	for _, t := range tasks {
		k := t.key()
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s: no name", t.kind()))
			continue
		}
		if _, dup := scheds[k]; dup {
			errs = append(errs, fmt.Errorf("%s: name used twice", k))
			continue
		}
		scheds[k] = nil
		if t.Spec == "" {
			continue
		}
		sc, err := Parse(t.Spec, s.opts.Location)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: schedule: %w", k, err))
			continue
		}
		scheds[k] = sc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var changes []Change
	for k, e := range s.entries {
		if _, keep := scheds[k]; !keep {
			if e.sched != nil {
				s.cron.Remove(e.id)
			}
			delete(s.entries, k)
			changes = append(changes, Change{Kind: e.task.kind(), Name: e.task.Name, What: "removed", Old: e.task.Spec})
		}
	}
	now := s.opts.Now()
	for _, t := range tasks {
		k := t.key()
		e, ok := s.entries[k]
		if !ok {
			e = s.newEntry(t)
			s.entries[k] = e
			changes = append(changes, Change{Kind: t.kind(), Name: t.Name, What: "added", New: t.Spec})
		} else if e.task.Spec != t.Spec {
			if e.sched != nil {
				s.cron.Remove(e.id)
				e.sched = nil
			}
			changes = append(changes, Change{Kind: t.kind(), Name: t.Name, What: "rescheduled", Old: e.task.Spec, New: t.Spec})
		} else {
			e.task = t // same schedule: only the work may have changed
			continue
		}
		e.task = t
		if sc := scheds[k]; sc != nil {
			e.sched = sc
			e.id = s.cron.Schedule(sc, e.job)
			e.log.Info("scheduled", "schedule", t.Spec, "next", sc.Next(now).In(s.opts.Location))
		} else {
			e.log.Info("not scheduled: no schedule; run it with amili-import run")
		}
	}
	sort.Slice(changes, func(i, j int) bool {
		return changes[i].Kind+changes[i].Name < changes[j].Kind+changes[j].Name
	})
	return changes, nil
}

func (s *Scheduler) newEntry(t Task) *entry {
	e := &entry{task: t, log: s.log.With(t.kind(), t.Name)}
	k := t.key()
	if job, ok := s.jobs[k]; ok {
		e.job = job
		return e
	}
	cl := CronLogger(e.log)
	e.job = cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(func() { s.fire(k) }))
	s.jobs[k] = e.job
	return e
}

// fire runs the task named k now, unless the scheduler is stopping.
func (s *Scheduler) fire(k string) {
	s.mu.Lock()
	e, ok := s.entries[k]
	if !ok || s.stopping {
		s.mu.Unlock()
		return
	}
	task := e.task
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()
	if err := task.Run(s.runCtx); err != nil {
		e.log.Debug("run returned an error", "error", err)
	}
}

// Start starts firing tasks on their schedules and, for tasks that ask for it, runs once at
// once each whose last successful run is older than one interval. ctx bounds the catch-up
// look-ups only.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.started = true
	var due []*entry
	now := s.opts.Now()
	for _, k := range slices.Sorted(maps.Keys(s.entries)) {
		e := s.entries[k]
		if !e.task.CatchUp || e.sched == nil || s.opts.LastRuns == nil {
			continue
		}
		last, ok, err := s.opts.LastRuns.LastSuccessfulRun(ctx, e.task.Name)
		if err != nil {
			e.log.Warn("catch-up: cannot read the last successful run; waiting for the schedule", "error", err)
			continue
		}
		if Missed(e.sched, last, ok, now) {
			if ok {
				e.log.Info("catch-up: a scheduled run was missed; running now", "last_success", last.In(s.opts.Location))
			} else {
				e.log.Info("catch-up: no successful run yet; running now")
			}
			due = append(due, e)
		}
	}
	s.mu.Unlock()
	s.cron.Start()
	for _, e := range due {
		go e.job.Run()
	}
}

// Missed reports whether a run of sched fell between the last successful run and now: the
// last success is older than one interval. No successful run at all counts as missed.
func Missed(sched cron.Schedule, last time.Time, ok bool, now time.Time) bool {
	if !ok {
		return true
	}
	next := sched.Next(last)
	return !next.IsZero() && !next.After(now)
}

// Running reports whether the scheduler has started and is not stopping (for /readyz).
func (s *Scheduler) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started && !s.stopping
}

// Shutdown stops firing tasks and waits for runs in progress to finish. When ctx is done
// first (the drain time is up, or a second signal), the runs' context is cancelled and
// Shutdown still waits for them to return, so that what they did is recorded; it then
// returns ctx's error.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.cron.Stop()
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		s.cancelRuns()
		return nil
	case <-ctx.Done():
	}
	s.log.Warn("cancelling the runs in progress; they record what they did and stop")
	s.cancelRuns()
	<-done
	return ctx.Err()
}
