package supervise

// The loop with real children (/bin/sh scripts) and a fake Source. The
// end-to-end tests in the repository root run the real binary, with
// signals sent from outside, as PID 1 and as a subreaper.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{
		"":               {Action: Restart},
		"restart":        {Action: Restart},
		"EXIT":           {Action: Exit},
		"none":           {Action: None},
		"signal:HUP":     {Action: Signal, Signal: syscall.SIGHUP},
		"signal:sigusr1": {Action: Signal, Signal: syscall.SIGUSR1},
	} {
		got, err := ParsePolicy(in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, _ := ParsePolicy(got.String()); again != got {
			t.Errorf("%q does not read back as %+v", got.String(), got)
		}
	}
	for _, in := range []string{"reload", "signal:", "signal:KILL", "signal:9", "kill"} {
		if _, err := ParsePolicy(in); err == nil {
			t.Errorf("ParsePolicy(%q): no error", in)
		}
	}
}

// source is a fake Source: each Refresh hands out the next update.
type source struct {
	mu        sync.Mutex
	updates   []*Update
	settled   []string
	closed    bool
	slow      time.Duration // the first Refresh takes that long
	refreshes int
}

func (s *source) Refresh(context.Context) *Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	if s.refreshes == 1 {
		time.Sleep(s.slow)
	}
	if len(s.updates) == 0 {
		return nil
	}
	u := s.updates[0]
	s.updates = s.updates[1:]
	return u
}

func (s *source) Renew(context.Context) *Update { return nil }
func (s *source) Due() time.Time                { return time.Time{} }

func (s *source) Settle(_ context.Context, u *Update, outcome Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	what := map[Outcome]string{Dropped: "dropped", Restarted: "adopted", Signaled: "signaled"}[outcome]
	s.settled = append(s.settled, what+":"+strings.Join(u.Vars, ","))
}

func (s *source) Close(context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}

// script runs sh -c body; the child appends "$V" to $OUT when it starts.
func script(t *testing.T, body string, env ...string) (Config, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	return Config{
		Path: "/bin/sh",
		Argv: []string{"sh", "-c", `printf '%s\n' "$V" >> "$OUT"; ` + body},
		Env:  append([]string{"OUT=" + out, "PATH=" + os.Getenv("PATH")}, env...),
	}, out
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logs) has(code string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), `"code":"`+code+`"`)
}

func logger() (*slog.Logger, *logs) {
	l := &logs{}
	return slog.New(slog.NewJSONHandler(l, nil)), l
}

// Ends the first child on TERM, the second (V=two) on its own.
const restartable = `[ "$V" = two ] && exit 4; trap 'exit 0' TERM; while :; do sleep 0.05; done`

func TestExitCodes(t *testing.T) {
	for body, want := range map[string]int{"exit 7": 7, "kill -USR2 $$": 128 + int(syscall.SIGUSR2), "exit 0": 0} {
		cfg, _ := script(t, body)
		if got := Run(cfg); got != want {
			t.Errorf("%s: exit %d, want %d", body, got, want)
		}
	}
	cfg, _ := script(t, "exit 0")
	cfg.Path = "/nonexistent/cmd"
	if got := Run(cfg); got != 127 {
		t.Errorf("missing command: %d, want 127", got)
	}
}

func TestRestartWithNewValues(t *testing.T) {
	cfg, out := script(t, restartable, "V=one")
	src := &source{updates: []*Update{{Env: append(append([]string{}, cfg.Env[:2]...), "V=two"), Vars: []string{"V"}, Reason: "rotation"}}}
	cfg.Source, cfg.Refresh, cfg.Grace, cfg.Policy = src, 50*time.Millisecond, 10*time.Second, Policy{Action: Restart}
	var l *logs
	cfg.Logger, l = logger()
	if got := Run(cfg); got != 4 {
		t.Errorf("exit %d, want the second child's 4", got)
	}
	if got := lines(t, out); strings.Join(got, " ") != "one two" {
		t.Errorf("children saw %v, want one then two", got)
	}
	if strings.Join(src.settled, " ") != "adopted:V" || !src.closed {
		t.Errorf("settled %v, closed %v", src.settled, src.closed)
	}
	for _, code := range []string{CodeChangeScheduled.Name(), CodeChildStopping.Name(), CodeChildRestarted.Name(), CodeChildExited.Name()} {
		if !l.has(code) {
			t.Errorf("no %s event", code)
		}
	}
}

func TestKillAfterGrace(t *testing.T) {
	// The first child ignores TERM.
	cfg, out := script(t, `[ "$V" = two ] && exit 0; trap '' TERM; while :; do sleep 0.05; done`, "V=one")
	src := &source{updates: []*Update{{Env: append(append([]string{}, cfg.Env[:2]...), "V=two"), Vars: []string{"V"}}}}
	cfg.Source, cfg.Refresh, cfg.Grace = src, 50*time.Millisecond, 300*time.Millisecond
	var l *logs
	cfg.Logger, l = logger()
	if got := Run(cfg); got != 0 {
		t.Errorf("exit %d, want 0", got)
	}
	if !l.has(CodeChildKilled.Name()) || strings.Join(lines(t, out), " ") != "one two" {
		t.Errorf("want the first child killed after the grace period and the second started\n%s", l.b.String())
	}
}

func TestExitPolicyAndNewerUpdates(t *testing.T) {
	cfg, out := script(t, restartable, "V=one")
	u1 := &Update{Env: cfg.Env, Vars: []string{"A"}}
	u2 := &Update{Env: cfg.Env, Vars: []string{"B"}}
	src := &source{updates: []*Update{u1, u2}}
	// A long splay: the second update replaces the first while it waits;
	// the deadline of the second cuts the splay short.
	u2.Deadline = time.Now().Add(2 * time.Second)
	cfg.Source, cfg.Refresh, cfg.Splay, cfg.Grace, cfg.Policy = src, 50*time.Millisecond, time.Hour, time.Second, Policy{Action: Exit}
	var l *logs
	cfg.Logger, l = logger()
	if got := Run(cfg); got != ExitChanged {
		t.Errorf("exit %d, want %d", got, ExitChanged)
	}
	if len(lines(t, out)) != 1 {
		t.Error("the exit policy started the command again")
	}
	if strings.Join(src.settled, " ") != "dropped:A dropped:B" || !strings.Contains(l.String(), `"replaced":true`) || !l.has(CodeChangeExit.Name()) {
		t.Errorf("settled %v\n%s", src.settled, l.b.String())
	}
}

// TestNewerValuesKeepTheSplay: a newer change replaces a pending one
// without drawing the splay again, so that a stream of changes (one every
// refresh) cannot put the restart off for ever; a deadline can only bring
// it forward.
func TestNewerValuesKeepTheSplay(t *testing.T) {
	s := &supervisor{cfg: Config{Splay: time.Hour, Grace: time.Second, Policy: Policy{Action: Restart}, Source: &source{}},
		log: slog.New(slog.DiscardHandler)}
	s.startWorker()
	defer s.splay.stop()
	s.onUpdate(&Update{Vars: []string{"A"}})
	first := s.splayEnd
	for i := range 20 {
		s.onUpdate(&Update{Vars: []string{fmt.Sprint("B", i)}})
		if !s.splayEnd.Equal(first) {
			t.Fatalf("change %d moved the restart from %v to %v", i+2, first, s.splayEnd)
		}
	}
	s.onUpdate(&Update{Vars: []string{"C"}, Deadline: time.Now().Add(3 * time.Second)})
	if !s.splayEnd.Before(first) || s.splayEnd.After(time.Now().Add(2*time.Second)) {
		t.Errorf("a deadline in 3 s left the restart at %v", time.Until(s.splayEnd))
	}
	if s.pending.Vars[0] != "C" {
		t.Errorf("pending %v, want the newest values", s.pending.Vars)
	}
}

// TestRevertCancelsThePendingChange: the stores returning to what the
// child runs with, during the splay, drop the pending restart.
func TestRevertCancelsThePendingChange(t *testing.T) {
	cfg, out := script(t, "sleep 1.5", "V=one")
	u := &Update{Env: append(append([]string{}, cfg.Env[:2]...), "V=two"), Vars: []string{"V"}, Reason: "rotation"}
	src := &source{updates: []*Update{u, {Env: cfg.Env, Revert: true}}}
	cfg.Source, cfg.Refresh, cfg.Splay, cfg.Grace = src, 50*time.Millisecond, time.Hour, time.Second
	var l *logs
	cfg.Logger, l = logger()
	if got := Run(cfg); got != 0 {
		t.Errorf("exit %d", got)
	}
	if got := lines(t, out); strings.Join(got, " ") != "one" {
		t.Errorf("children saw %v: the reverted change was applied", got)
	}
	if strings.Join(src.settled, " ") != "dropped:V dropped:" || !strings.Contains(l.String(), `"why":"revert"`) {
		t.Errorf("settled %v\n%s", src.settled, l.String())
	}
}

// TestSignalPolicySettlesAsSignaled: the source learns that the child was
// told of the values, so that a revert is signaled too.
func TestSignalPolicySettlesAsSignaled(t *testing.T) {
	cfg, out := script(t, `trap 'echo hup >> "$OUT"' HUP; i=0; while [ $i -lt 30 ]; do sleep 0.05; i=$((i+1)); done`, "V=one")
	src := &source{updates: []*Update{{Env: cfg.Env, Vars: []string{"V"}}, {Env: cfg.Env, Vars: []string{"V"}}}}
	cfg.Source, cfg.Refresh, cfg.Policy = src, 50*time.Millisecond, Policy{Action: Signal, Signal: syscall.SIGHUP}
	cfg.Logger, _ = logger()
	if got := Run(cfg); got != 0 {
		t.Errorf("exit %d", got)
	}
	if got := lines(t, out); strings.Join(got, " ") != "one hup hup" {
		t.Errorf("child saw %v, want two HUPs", got)
	}
	if strings.Join(src.settled, " ") != "signaled:V signaled:V" {
		t.Errorf("settled %v", src.settled)
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if d := jitter(time.Minute, 0.1); d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("jitter(1m, 10%%) = %v", d)
		}
	}
}

func TestSlowSourceDoesNotPileUp(t *testing.T) {
	cfg, _ := script(t, "sleep 1.6")
	src := &source{slow: time.Second}
	cfg.Source, cfg.Refresh = src, 100*time.Millisecond
	if got := Run(cfg); got != 0 {
		t.Fatalf("exit %d", got)
	}
	// A 100 ms refresh whose first round takes a second: the ticks
	// meanwhile make one more round, not ten run back to back. About 7 in
	// all, against 15 if they piled up.
	if src.refreshes > 10 {
		t.Errorf("%d refreshes ran: the ticks of a slow source piled up", src.refreshes)

	}
}

func TestTermDuringRestartIsNotSentTwice(t *testing.T) {
	cfg, out := script(t, `trap 'echo term >> "$OUT"; sleep 0.5; exit 3' TERM; while :; do sleep 0.05; done`, "V=one")
	src := &source{updates: []*Update{{Env: cfg.Env, Vars: []string{"V"}}}}
	cfg.Source, cfg.Refresh, cfg.Grace = src, 50*time.Millisecond, 10*time.Second
	var l *logs
	cfg.Logger, l = logger()
	go func() {
		// Once the child got the restart's TERM, the container is stopped.
		for !strings.Contains(readFile(out), "term") {
			time.Sleep(10 * time.Millisecond)
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	if got := Run(cfg); got != 3 {
		t.Errorf("exit %d, want the child's 3, and no restart", got)
	}
	if got := lines(t, out); strings.Join(got, " ") != "one term" {
		t.Errorf("child saw %v: want one start and one TERM", got)
	}
	if !l.has(CodeSignalHeld.Name()) || !l.has(CodeRestartCanceled.Name()) || src.settled[0] != "dropped:V" {
		t.Errorf("settled %v\n%s", src.settled, l.b.String())
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
