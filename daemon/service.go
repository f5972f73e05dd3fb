package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/schedules"
)

// Runner runs one job or one report of the config it was built for, once.
type Runner interface {
	RunJob(ctx context.Context, j config.Job) error
	RunReport(ctx context.Context, r config.Report) error
}

// Ledger is what the service reads of the ledger: each job's last successful run, for the
// catch-up at start, the metrics and the readiness check.
type Ledger interface {
	LastSuccessfulRun(ctx context.Context, job string) (time.Time, bool, error)
}

// Options are what a Service is made of.
type Options struct {
	// Path names the config file in log lines; Load reads it anew, for SIGHUP.
	Path string
	Load func() (*config.Config, error)
	// NewRunner builds the runner of a config: at start, and for each reloaded config.
	NewRunner func(cfg *config.Config) (Runner, error)
	Ledger    Ledger
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// DrainTimeout is how long runs in progress of a config may go on after SIGTERM.
	DrainTimeout func(cfg *config.Config) time.Duration
	// StartAttrs are logged with "daemon started".
	StartAttrs []any
}

// ErrCutShort is what Run returns when it stopped before the runs in progress finished; the
// next run resumes them.
var ErrCutShort = errors.New("stopped before the runs in progress finished; the next run resumes them")

// Service is the running daemon.
type Service struct {
	opts  Options
	log   *slog.Logger
	sched *schedules.Scheduler

	mu     sync.Mutex // guards cfg and runner, swapped by reload
	cfg    *config.Config
	runner Runner
}

// New checks cfg's schedules and builds the service; nothing runs before Run.
func New(cfg *config.Config, opts Options) (*Service, error) {
	loc, err := CheckSchedules(cfg)
	if err != nil {
		return nil, err
	}
	r, err := opts.NewRunner(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service{opts: opts, log: opts.Logger, cfg: cfg, runner: r}
	var lastRuns schedules.LastRuns
	if catchUp(cfg) {
		lastRuns = opts.Ledger
	}
	s.sched = schedules.New(schedules.Options{Location: loc, Logger: s.log, LastRuns: lastRuns})
	if _, err := s.sched.Set(s.tasks(cfg, r)); err != nil {
		return nil, err
	}
	return s, nil
}

func catchUp(cfg *config.Config) bool { return cfg.Daemon.CatchUp == nil || *cfg.Daemon.CatchUp }

// Run starts the schedules and serves signals until SIGTERM or SIGINT (or ctx ends): SIGHUP
// reloads the config; a stop drains. It returns ErrCutShort when runs were cut short.
func (s *Service) Run(ctx context.Context, sigs <-chan os.Signal) error {
	s.seedLastSuccess(ctx)
	s.sched.Start(ctx)
	s.log.Info("daemon started", s.opts.StartAttrs...)
	stops := 0 // SIGINT/SIGTERM received; every one also arrives on sigs
	for stops == 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				s.Reload()
				continue
			}
			stops++
		}
	}
	return s.stop(sigs, stops)
}

// stop drains the scheduler: runs in progress get the drain timeout to finish; another
// SIGINT/SIGTERM cancels them at once. It waits for cancelled runs to record what they did.
func (s *Service) stop(sigs <-chan os.Signal, stops int) error {
	drain := s.opts.DrainTimeout(s.config())
	s.log.Info("stopping: no new runs; waiting for runs in progress", "drain_timeout", drain.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	drained := make(chan struct{})
	go func() {
		for {
			select {
			case <-drained:
				return
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					continue
				}
				if stops++; stops >= 2 {
					s.log.Warn("second signal: cancelling the runs in progress now")
					cancel()
				}
			}
		}
	}()
	err := s.sched.Shutdown(drainCtx)
	close(drained)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("drain time was up: runs in progress were cancelled", "drain_timeout", drain.String())
	}
	if err != nil {
		s.log.Warn("stopped; runs cut short are resumed by the next run")
		return ErrCutShort
	}
	s.log.Info("stopped")
	return nil
}

// CheckSchedules checks what the daemon needs beyond config.Load: every schedule fires in the
// config's time zone, and there is something to schedule. It returns the time zone.
func CheckSchedules(cfg *config.Config) (*time.Location, error) {
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, &config.Error{File: cfg.Path, Key: "time_zone", Msg: err.Error()}
	}
	var errs config.Errors
	if ttl := cfg.Daemon.LeaseTTL.D(); ttl != 0 && ttl < 3*time.Second {
		errs = append(errs, &config.Error{File: cfg.Path, Key: "daemon.lease_ttl", Msg: fmt.Sprintf("%v is too short: at least 3s (renewed every lease_ttl/3)", ttl)})
	}
	scheduled := 0
	check := func(key, spec string) {
		if _, err := schedules.Parse(spec, loc); err != nil {
			errs = append(errs, &config.Error{File: cfg.Path, Key: key, Msg: err.Error()})
		}
		scheduled++
	}
	for i, j := range cfg.Jobs {
		if j.Schedule != "" && j.IsEnabled() {
			check(fmt.Sprintf("jobs[%d] (%s).schedule", i, j.Name), j.Schedule)
		}
	}
	for i, r := range cfg.Reports {
		if r.Schedule != "" {
			check(fmt.Sprintf("reports[%d] (%s).schedule", i, r.Name), r.Schedule)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if scheduled == 0 {
		return nil, &config.Error{File: cfg.Path, Key: "jobs", Msg: "no enabled job or report has a schedule: the daemon would have nothing to do"}
	}
	return loc, nil
}

// tasks are cfg's enabled jobs and reports as scheduler tasks, run by r. A job without a
// schedule is known but not scheduled.
func (s *Service) tasks(cfg *config.Config, r Runner) []schedules.Task {
	var tasks []schedules.Task
	for _, j := range cfg.Jobs {
		if !j.IsEnabled() {
			s.log.Info("job disabled; not scheduled", "job", j.Name)
			continue
		}
		tasks = append(tasks, schedules.Task{Kind: "job", Name: j.Name, Spec: j.Schedule, CatchUp: catchUp(cfg),
			Run: func(ctx context.Context) error { return r.RunJob(ctx, j) }})
	}
	for _, rc := range cfg.Reports {
		if rc.Schedule == "" {
			continue
		}
		tasks = append(tasks, schedules.Task{Kind: "report", Name: rc.Name, Spec: rc.Schedule,
			Run: func(ctx context.Context) error { return r.RunReport(ctx, rc) }})
	}
	return tasks
}

// Reload applies the config file anew. A config that does not load, whose schedules do not
// parse or whose runner cannot be built is logged, and the running one kept.
func (s *Service) Reload() {
	s.log.Info("reloading the config", "config", s.opts.Path)
	cfg, err := s.opts.Load()
	if err == nil {
		_, err = CheckSchedules(cfg)
	}
	var r Runner
	if err == nil {
		r, err = s.opts.NewRunner(cfg)
	}
	var changes []schedules.Change
	if err == nil {
		changes, err = s.sched.Set(s.tasks(cfg, r))
	}
	if err != nil {
		s.log.Error("reload refused: keeping the running config", "error", err)
		return
	}
	s.mu.Lock()
	old := s.cfg
	s.cfg, s.runner = cfg, r
	s.mu.Unlock()
	for _, w := range cfg.Warnings {
		s.log.Warn("config: " + w)
	}
	s.logChanges(old, cfg, changes)
}

// logChanges tells what a reload changed, and which changes wait for a restart.
func (s *Service) logChanges(old, cfg *config.Config, changes []schedules.Change) {
	restart := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			s.log.Warn("reload: "+key+" changed; it takes effect after a restart", "key", key)
		}
	}
	restart("ledger", old.Ledger, cfg.Ledger)
	restart("daemon.listen", old.Daemon.Listen, cfg.Daemon.Listen)
	restart("log", old.Log, cfg.Log)
	restart("time_zone", old.TimeZone, cfg.TimeZone)
	for _, c := range changes {
		s.log.Info("reload: "+c.String(), c.Kind, c.Name, "change", c.What)
	}
	oldJobs := map[string]config.Job{}
	for _, j := range old.Jobs {
		oldJobs[j.Name] = j
	}
	for _, j := range cfg.Jobs {
		if o, ok := oldJobs[j.Name]; ok && o.Schedule == j.Schedule && !reflect.DeepEqual(o, j) {
			s.log.Info("reload: job "+j.Name+" settings changed", "job", j.Name)
		}
	}
	s.log.Info("config reloaded", "schedule_changes", len(changes))
}

// seedLastSuccess sets the last-success gauge of each job from the ledger, so that a restart
// does not reset what monitoring sees.
func (s *Service) seedLastSuccess(ctx context.Context) {
	for _, j := range s.config().Jobs {
		if at, ok, err := s.opts.Ledger.LastSuccessfulRun(ctx, j.Name); err == nil && ok {
			s.opts.Metrics.SetLastSuccess(j.Name, at)
		}
	}
}

func (s *Service) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}
