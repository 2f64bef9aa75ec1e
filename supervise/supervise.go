package supervise

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// Update is a new environment for the child.
type Update struct {
	// Env is the child's complete new environment.
	Env []string
	// Vars names the variables whose values differ from the running
	// child's, for the logs. Never values.
	Vars []string
	// Reason says what brought the change, for the logs: "rotation" (a
	// new version in a store), "lease" (a lease at its maximum lifetime),
	// "credential" (the store's login credential replaced).
	Reason string
	// Deadline, when set, is when the values the child runs with stop
	// working (a lease reaching its maximum lifetime): the splay is cut
	// so that the restart can complete before it.
	Deadline time.Time
	// Detected is when the change was first seen, for the logs.
	Detected time.Time
	// Revert says that the stores hold again what the child runs with:
	// a change not applied yet is dropped (a restart under way starts the
	// child with Env, which is then the child's own environment).
	Revert bool
}

// Outcome is what became of an Update (see Source.Settle).
type Outcome int

// The outcomes of an Update.
const (
	// Dropped: the Update was not applied (newer values replaced it, a
	// stop signal came, the policy ignores changes, a revert canceled it,
	// or the child could not be started with it).
	Dropped Outcome = iota
	// Restarted: the child now runs with the Update's Env.
	Restarted
	// Signaled: the child was sent the policy's signal for the Update; it
	// keeps its environment, but was told of the new values.
	Signaled
)

// Source supplies new environments and keeps the current one alive. The
// supervisor calls its methods one at a time, from one goroutine, never
// from the loop: they may take as long as the stores do, under ctx.
type Source interface {
	// Refresh is called at every refresh tick: it returns an Update when
	// the stores hold new values that passed every check, else nil. It
	// logs what it found. Once an Update is returned, the Source reports
	// it no more: a later Update carries what changed after it.
	Refresh(ctx context.Context) *Update
	// Renew is called when the time Due last returned has come: it renews
	// what is due (leases, the login credential) and returns an Update
	// when values must be replaced because they can no longer be renewed.
	Renew(ctx context.Context) *Update
	// Due returns when Renew must be called next; zero means never.
	Due() time.Time
	// Settle tells the Source what became of an Update it returned.
	Settle(ctx context.Context, u *Update, outcome Outcome)
	// Close releases everything (revokes leases) once the child has
	// exited for good.
	Close(ctx context.Context)
}

// Config configures Run.
type Config struct {
	Path string   // the command's file, as found by exec.LookPath
	Argv []string // argv[0] and the arguments, passed as they are
	Env  []string // the first child's environment

	// Source supplies new values; nil means the supervisor only forwards
	// signals, reaps, and exits with the child's code.
	Source Source
	// Refresh is the interval between calls to Source.Refresh, each
	// drawn within ±10% of it; zero or less: never.
	Refresh time.Duration
	// Splay is the longest random delay before new values are applied,
	// so that the nodes of a cluster do not all restart at once.
	Splay time.Duration
	// Grace is how long the child has to exit after TERM, before KILL.
	Grace time.Duration
	// Policy is what new values do to the running child.
	Policy Policy
	// StopSignal stops the child for a restart or an exit (then KILL
	// after Grace); zero means TERM.
	StopSignal syscall.Signal
	// Mask, when set, passes the child's output through the supervisor
	// with the values it holds concealed (N8N_SECRETS_MASK).
	Mask *Masker
	// Logger receives the supervisor's events; nil discards them.
	Logger *slog.Logger
}

// cleanupTimeout bounds Source.Close at the end.
const cleanupTimeout = 15 * time.Second

// sweepDelay is how long an exited process that is not the child stays a
// zombie before the supervisor reaps it. A helper that a library in this
// process started and waits for itself (the AWS SDK's credential_process)
// is reaped by its own waiter long before; reaping every zombie at once
// could take its status from under it.
const sweepDelay = time.Second

// forwarded are the signals passed on to the child.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Run starts the command as a child and supervises it until it exits for
// good; it returns the code to exit with: the child's (128+N when it died
// of signal N), ExitChanged under the Exit policy, or 126/127 when the
// command could not be started.
func Run(cfg Config) int {
	s := &supervisor{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	code := s.run()
	cfg.Mask.Wait(maskDrain) // the last of the child's output, masked
	return code
}

// maskDrain bounds the wait for the child's output pipes to end.
const maskDrain = 2 * time.Second

// supervisor is the loop's state. Only the loop goroutine touches it.
type supervisor struct {
	cfg Config
	log *slog.Logger

	child *child
	tty   bool // standard input is a terminal: the child shares our process group

	sigs chan os.Signal

	// The worker runs the Source's methods; busy while one runs.
	jobs    chan job
	results chan jobResult
	busy    bool
	queue   []job
	workCtx context.Context
	stopWrk context.CancelFunc

	refresh, renew, splay, grace, sweep timer

	pending    *Update   // waiting for the splay
	splayEnd   time.Time // when the splay of the pending change ends
	next       *Update   // the restart under way starts the child with it
	restarting bool      // TERM sent for a restart
	exiting    bool      // TERM sent under the Exit policy
	stopping   bool      // a stop signal came, or the child exited: no more changes
	finished   bool
	code       int
}

// timer is a stoppable one-shot timer whose channel is nil while unset,
// so that a select on it blocks.
type timer struct {
	t *time.Timer
	c <-chan time.Time
}

func (t *timer) set(d time.Duration) {
	t.stop()
	t.t = time.NewTimer(max(d, 0))
	t.c = t.t.C
}

func (t *timer) stop() {
	if t.t != nil {
		t.t.Stop()
		t.t, t.c = nil, nil
	}
}

func (t *timer) active() bool { return t.t != nil }

func (s *supervisor) run() int {
	if os.Getpid() != 1 {
		if err := becomeSubreaper(); err != nil {
			s.log.Warn("cannot register as a child subreaper: orphans of the command go to PID 1",
				"code", CodeSubreaperFailed, "error", err.Error())
		}
	}
	s.tty = isTerminal(0)
	s.sigs = make(chan os.Signal, 32)
	signal.Notify(s.sigs, append([]os.Signal{syscall.SIGCHLD}, forwarded...)...)
	defer signal.Stop(s.sigs)

	c, err := startChild(s.cfg.Path, s.cfg.Argv, s.cfg.Env, !s.tty, 1, s.cfg.Mask)
	if err != nil {
		code := startFailureCode(err)
		s.log.Error("cannot start the command", "code", CodeChildStartFailed, "error", err.Error(), "exit", code)
		s.startWorker()
		s.closeSource()
		return code
	}
	s.child = c
	s.log.Info("command started", "code", CodeChildStarted, "pid", c.pid, "supervisor_pid", os.Getpid(),
		"policy", s.cfg.Policy.String(), "refresh_s", s.cfg.Refresh.Seconds(), "splay_s", s.cfg.Splay.Seconds(),
		"grace_s", s.cfg.Grace.Seconds())

	s.startWorker()
	if s.cfg.Source != nil {
		s.armRefresh()
		s.enqueue(job{kind: jobRenew})
	}
	for !s.finished {
		select {
		case sig := <-s.sigs:
			s.onSignal(sig.(syscall.Signal))
		case <-s.refresh.c:
			s.refresh.stop()
			if !s.stopping && !s.restarting && !s.exiting {
				s.enqueue(job{kind: jobRefresh})
			}
			s.armRefresh()
		case <-s.renew.c:
			s.renew.stop()
			s.enqueue(job{kind: jobRenew})
		case <-s.splay.c:
			s.splay.stop()
			s.apply()
		case <-s.grace.c:
			s.grace.stop()
			s.onGraceOver()
		case <-s.sweep.c:
			s.sweep.stop()
			s.sweepZombies()
		case r := <-s.results:
			s.onResult(r)
		}
	}
	return s.code
}

// --- the worker ---

type jobKind int

const (
	jobRefresh jobKind = iota
	jobRenew
	jobSettle
	jobClose
)

type job struct {
	kind    jobKind
	u       *Update
	outcome Outcome
}

type jobResult struct {
	kind jobKind
	u    *Update
	due  time.Time
}

// startWorker starts the goroutine that runs the Source's methods.
func (s *supervisor) startWorker() {
	s.jobs = make(chan job, 1)
	s.results = make(chan jobResult, 1)
	s.workCtx, s.stopWrk = context.WithCancel(context.Background())
	src, ctx, jobs, results := s.cfg.Source, s.workCtx, s.jobs, s.results
	go func() {
		for j := range jobs {
			r := jobResult{kind: j.kind}
			if src != nil {
				switch j.kind {
				case jobRefresh:
					r.u = src.Refresh(ctx)
				case jobRenew:
					r.u = src.Renew(ctx)
				case jobSettle:
					// Settling releases leases: it must run even after
					// the loop stopped asking for new work.
					sctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
					src.Settle(sctx, j.u, j.outcome)
					cancel()
				case jobClose:
					cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
					src.Close(cctx)
					cancel()
				}
				r.due = src.Due()
			}
			results <- r
		}
	}()
}

// enqueue runs j on the worker as soon as it is free. A refresh or a
// renewal already waiting is not queued twice: a store slower than the
// refresh interval must not pile up work.
func (s *supervisor) enqueue(j job) {
	if s.cfg.Source == nil && j.kind != jobClose {
		return
	}
	if (j.kind == jobRefresh || j.kind == jobRenew) && slices.ContainsFunc(s.queue, func(q job) bool { return q.kind == j.kind }) {
		return
	}
	s.queue = append(s.queue, j)
	s.dispatch()
}

func (s *supervisor) dispatch() {
	if s.busy || len(s.queue) == 0 {
		return
	}
	j := s.queue[0]
	s.queue = s.queue[1:]
	s.busy = true
	s.jobs <- j
}

func (s *supervisor) onResult(r jobResult) {
	s.busy = false
	if r.kind == jobClose {
		close(s.jobs)
		s.finished = true
		return
	}
	if !s.stopping || s.child != nil {
		if r.due.IsZero() {
			s.renew.stop()
		} else {
			s.renew.set(time.Until(r.due))
		}
	}
	if r.u != nil {
		s.onUpdate(r.u)
	}
	s.dispatch()
}

// settle tells the Source what became of u.
func (s *supervisor) settle(u *Update, outcome Outcome) {
	if u != nil {
		s.enqueue(job{kind: jobSettle, u: u, outcome: outcome})
	}
}

// closeSource releases the Source and ends the loop once that is done (or
// took too long: a store that does not answer must not keep the container
// from exiting).
func (s *supervisor) closeSource() {
	s.stopWrk()
	// Drop the work not started yet, but settle what was decided.
	var keep []job
	for _, j := range s.queue {
		if j.kind == jobSettle {
			keep = append(keep, j)
		}
	}
	s.queue = keep
	s.enqueue(job{kind: jobClose})
	deadline := time.NewTimer(cleanupTimeout + cleanupTimeout/2)
	defer deadline.Stop()
	for !s.finished {
		select {
		case r := <-s.results:
			s.onResult(r)
		case <-s.sigs:
			// The child is gone: nothing to forward. Orphans that exit
			// now are reaped by the init that adopts them after us.
		case <-deadline.C:
			s.log.Error("releasing the secrets took too long; exiting without waiting", "code", CodeCleanupTimeout)
			s.finished = true
		}
	}
}

// --- changes ---

// armRefresh sets the next refresh tick, within ±10% of the interval.
func (s *supervisor) armRefresh() {
	if s.cfg.Source == nil || s.cfg.Refresh <= 0 || s.stopping {
		return
	}
	s.refresh.set(jitter(s.cfg.Refresh, 0.1))
}

// jitter returns d changed by a random fraction within ±frac.
func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 + frac*(2*rand.Float64()-1)))
}

// onUpdate schedules new values per the policy. A newer Update replaces
// a pending one without drawing its splay again, so that a stream of
// changes delays a restart by one splay at most; a Revert cancels it.
func (s *supervisor) onUpdate(u *Update) {
	if s.stopping || s.exiting {
		s.settle(u, Dropped)
		return
	}
	if u.Revert {
		s.revert(u)
		return
	}
	attrs := []any{"vars", u.Vars, "reason", u.Reason}
	if s.cfg.Policy.Action == None {
		s.log.Warn("new values not applied (N8N_SECRETS_ON_CHANGE=none): the command keeps the old ones",
			append(attrs, "code", CodeChangeIgnored)...)
		s.settle(u, Dropped)
		return
	}
	if s.restarting {
		// A restart is under way: start the new child with the newest.
		s.settle(s.next, Dropped)
		s.next = u
		return
	}
	now := time.Now()
	end := now
	if s.pending != nil {
		s.settle(s.pending, Dropped)
		end = s.splayEnd
		attrs = append(attrs, "replaced", true)
	} else if s.cfg.Splay > 0 {
		end = now.Add(rand.N(s.cfg.Splay + 1))
	}
	if !u.Deadline.IsZero() {
		// Leave the restart time to finish before the old values die.
		room := (time.Until(u.Deadline) - s.cfg.Grace) / 2
		end = minTime(end, now.Add(max(room, 0)))
	}
	s.pending, s.splayEnd = u, end
	delay := max(end.Sub(now), 0)
	s.log.Info("change scheduled", append(attrs, "code", CodeChangeScheduled, "action", s.cfg.Policy.String(),
		"delay_ms", delay.Milliseconds())...)
	s.splay.set(delay)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// revert handles an Update saying that the stores hold again what the
// child runs with: a pending change is canceled; a restart under way
// starts the child with the values it had.
func (s *supervisor) revert(u *Update) {
	switch {
	case s.pending != nil:
		s.log.Info("pending change canceled: the stores hold again the values the command runs with",
			"code", CodeRestartCanceled, "vars", s.pending.Vars, "why", "revert")
		s.settle(s.pending, Dropped)
		s.pending = nil
		s.splay.stop()
		s.settle(u, Dropped)
	case s.restarting && s.next != nil:
		s.settle(s.next, Dropped)
		s.next = u
	default:
		s.settle(u, Dropped)
	}
}

// apply carries out the pending change, once its splay is over.
func (s *supervisor) apply() {
	u := s.pending
	s.pending = nil
	if u == nil || s.child == nil {
		return
	}
	attrs := []any{"vars", u.Vars, "reason", u.Reason, "pid", s.child.pid}
	switch s.cfg.Policy.Action {
	case Signal:
		err := s.child.signal(s.cfg.Policy.Signal)
		attrs = append(attrs, "code", CodeChangeSignaled, "signal", signalName(s.cfg.Policy.Signal))
		if err != nil {
			s.log.Warn("new values: signaling the command failed", append(attrs, "error", err.Error())...)
			s.settle(u, Dropped)
		} else {
			s.log.Info("new values: command signaled, it keeps its environment", attrs...)
			s.settle(u, Signaled)
		}
	case Exit:
		s.exiting = true
		s.log.Info("new values: stopping the command and exiting, for the orchestrator to start it again",
			append(attrs, "code", CodeChangeExit, "exit", ExitChanged)...)
		s.settle(u, Dropped)
		s.stopChild()
	default:
		s.restarting = true
		s.next = u
		s.stopChild()
	}
}

// stopChild sends TERM and starts the grace period.
func (s *supervisor) stopChild() {
	reason := "exit"
	if s.restarting {
		reason = "restart"
	}
	sig := cmp.Or(s.cfg.StopSignal, syscall.SIGTERM)
	s.log.Info("stopping the command", "code", CodeChildStopping, "pid", s.child.pid, "for", reason,
		"signal", signalName(sig), "grace_s", s.cfg.Grace.Seconds())
	_ = s.child.signal(sig)
	s.grace.set(s.cfg.Grace)
}

func (s *supervisor) onGraceOver() {
	if s.child == nil {
		return
	}
	s.log.Warn("the command outlived the grace period: killing it", "code", CodeChildKilled, "pid", s.child.pid,
		"grace_s", s.cfg.Grace.Seconds())
	_ = s.child.kill()
}

// --- signals and exits ---

func (s *supervisor) onSignal(sig syscall.Signal) {
	if sig == syscall.SIGCHLD {
		s.reapChild()
		if !s.sweep.active() {
			s.sweep.set(sweepDelay)
		}
		return
	}
	if sig == syscall.SIGTERM || sig == syscall.SIGINT || sig == syscall.SIGQUIT {
		s.stopChanges()
	}
	if s.child == nil {
		return
	}
	if s.tty && (sig == syscall.SIGINT || sig == syscall.SIGQUIT || sig == syscall.SIGWINCH) {
		// The terminal sent it to its whole process group, the child too.
		return
	}
	if sig == syscall.SIGTERM && s.grace.active() {
		// The child has had its TERM (a restart, or the exit policy) and
		// is stopping: a second one would make n8n stop at once. Its grace
		// period runs on.
		s.log.Info("signal not forwarded: the command is already stopping", "code", CodeSignalHeld,
			"signal", "TERM", "pid", s.child.pid)
		return
	}
	err := s.child.signal(sig)
	level := slog.LevelInfo
	if sig == syscall.SIGWINCH {
		level = slog.LevelDebug
	}
	attrs := []any{"code", CodeSignalForwarded, "signal", signalName(sig), "pid", s.child.pid}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	s.log.Log(context.Background(), level, "signal forwarded", attrs...)
}

// stopChanges drops any change not applied yet: the container is being
// stopped, the child must exit with the values it has.
func (s *supervisor) stopChanges() {
	if s.stopping {
		return
	}
	s.stopping = true
	s.refresh.stop()
	s.splay.stop()
	for _, u := range []*Update{s.pending, s.next} {
		if u != nil {
			s.log.Info("change canceled: stopping", "code", CodeRestartCanceled, "vars", u.Vars, "why", "stop")
			s.settle(u, Dropped)
		}
	}
	s.pending, s.next = nil, nil
}

// reapChild collects the child's status if it exited.
func (s *supervisor) reapChild() {
	if s.child == nil {
		return
	}
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(s.child.pid, &ws, syscall.WNOHANG, nil)
	if err != nil || pid != s.child.pid {
		return
	}
	s.onChildExit(ws)
}

// sweepZombies reaps every exited process that is not the child: orphans
// reparented to this process (as PID 1 or as a subreaper).
func (s *supervisor) sweepZombies() {
	n := 0
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err != nil || pid <= 0 {
			break
		}
		if s.child != nil && pid == s.child.pid {
			s.onChildExit(ws)
			continue
		}
		n++
	}
	if n > 0 {
		s.log.Debug("orphaned processes reaped", "code", CodeZombiesReaped, "count", n)
	}
}

func (s *supervisor) onChildExit(ws syscall.WaitStatus) {
	old := s.child
	s.child = nil
	s.grace.stop()
	code := exitCode(ws)
	if s.restarting && s.next != nil && !s.stopping {
		u := s.next
		s.restarting, s.next = false, nil
		s.cfg.Mask.addVars(u.Env, u.Vars)
		c, err := startChild(s.cfg.Path, s.cfg.Argv, u.Env, !s.tty, old.gen+1, s.cfg.Mask)
		if err == nil {
			s.child = c
			attrs := []any{"code", CodeChildRestarted, "pid", c.pid, "old_pid", old.pid, "old_exit", code,
				"vars", u.Vars, "reason", u.Reason, "generation", c.gen}
			if !u.Detected.IsZero() {
				attrs = append(attrs, "since_change_ms", time.Since(u.Detected).Milliseconds())
			}
			s.log.Info("command restarted with new values", attrs...)
			s.settle(u, Restarted)
			s.armRefresh()
			return
		}
		s.settle(u, Dropped)
		code = startFailureCode(err)
		s.log.Error("cannot start the command again", "code", CodeChildStartFailed, "error", err.Error(), "exit", code)
	} else if s.exiting {
		code = ExitChanged
	}
	s.log.Info("command exited", "code", CodeChildExited, "pid", old.pid, "exit", code,
		"uptime_s", time.Since(old.started).Round(time.Millisecond).Seconds())
	s.code = code
	s.stopChanges()
	s.renew.stop()
	s.sweepZombies()
	s.closeSource()
}
