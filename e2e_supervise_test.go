package main

// End-to-end tests of supervise mode: the real binary stays the parent of
// this test binary, which serves as a long-running command (serveChild):
// each start, and each signal it receives, appends a line to its report
// file. Every run plants canaries and fails if the injector prints one.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
)

// childEvent is one line the serving child appends to its report file.
type childEvent struct {
	PID    int      `json:"pid"`
	Event  string   `json:"event"` // "start" or "signal"
	Signal string   `json:"signal,omitempty"`
	Env    []string `json:"env,omitempty"`
	Orphan int      `json:"orphan,omitempty"` // pid of the orphan it left, in its own PID namespace
}

// serveChild is the command in supervise tests: it reports its start and
// every signal, and runs until TERM, on which it exits with E2E_CHILD_EXIT,
// or dies of the signal (E2E_CHILD_ON_TERM=die). With E2E_CHILD_ORPHAN set
// it first leaves an orphan behind: a sleep whose parent shell has exited.
func serveChild(out string) {
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		os.Exit(99)
	}
	write := func(ev childEvent) {
		b, _ := json.Marshal(ev)
		_, _ = f.Write(append(b, '\n')) // one write: lines never interleave
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1,
		syscall.SIGUSR2, syscall.SIGWINCH)
	ev := childEvent{PID: os.Getpid(), Event: "start", Env: os.Environ()}
	if d := os.Getenv("E2E_CHILD_ORPHAN"); d != "" {
		b, err := exec.Command("/bin/sh", "-c", "sleep "+d+" & echo $!").Output()
		if err != nil {
			os.Exit(98)
		}
		ev.Orphan, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	write(ev)
	for sig := range ch {
		s := sig.(syscall.Signal)
		write(childEvent{PID: os.Getpid(), Event: "signal", Signal: signalName(s)})
		if s != syscall.SIGTERM {
			continue
		}
		if os.Getenv("E2E_CHILD_ON_TERM") == "die" {
			signal.Reset(syscall.SIGTERM)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(5 * time.Second)
		}
		code, _ := strconv.Atoi(os.Getenv("E2E_CHILD_EXIT"))
		os.Exit(code)
	}
}

func signalName(s syscall.Signal) string {
	for name, sig := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
		"QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "WINCH": syscall.SIGWINCH} {
		if sig == s {
			return name
		}
	}
	return strconv.Itoa(int(s))
}

// supervised is one running supervise-mode binary.
type supervised struct {
	e      *e2e
	cmd    *exec.Cmd
	out    string // the child's report file
	stdout *syncbuf.Buffer
	stderr *syncbuf.Buffer
	done   chan struct{}
	code   int
}

// superviseEnv are the settings of every supervise test: supervise mode,
// the serving child, debug logs (the canary check then covers every event).
func superviseEnv(extra ...string) []string {
	return append([]string{"N8N_SECRETS_MODE=supervise", "E2E_CHILD_MODE=serve", "N8N_SECRETS_LOG_LEVEL=debug",
		"N8N_SECRETS_SPLAY=0s", "N8N_GRACEFUL_SHUTDOWN_TIMEOUT=5"}, extra...)
}

// start runs the binary in supervise mode with this test binary as the
// command; sys, when set, starts it in new namespaces.
func (e *e2e) startSupervised(env []string, sys *syscall.SysProcAttr) *supervised {
	e.t.Helper()
	out := filepath.Join(e.t.TempDir(), "child.jsonl")
	cmd := exec.Command(binPath, "--", self(e.t))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir,
		"E2E_CHILD_OUT=" + out}, env...)
	r := &supervised{e: e, cmd: cmd, out: out, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	cmd.SysProcAttr = sys
	// A command left running by a failed test holds the output pipes.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		r.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
		close(r.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
		// Commands a failed test left behind.
		for _, ev := range r.starts() {
			_ = syscall.Kill(ev.PID, syscall.SIGKILL)
		}
	})
	return r
}

// events returns the child's report lines so far.
func (r *supervised) events() []childEvent {
	f, err := os.Open(r.out)
	if err != nil {
		return nil
	}
	defer f.Close()
	var evs []childEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev childEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			evs = append(evs, ev)
		}
	}
	return evs
}

// starts returns the child's starts, oldest first.
func (r *supervised) starts() []childEvent {
	var s []childEvent
	for _, ev := range r.events() {
		if ev.Event == "start" {
			s = append(s, ev)
		}
	}
	return s
}

// waitFor polls until cond holds, failing the test after timeout (or when
// the binary exits first).
func (r *supervised) waitFor(what string, timeout time.Duration, cond func() bool) {
	r.e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-r.done:
			if cond() {
				return
			}
			r.e.t.Fatalf("the binary exited (%d) before %s\n%s", r.code, what, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.e.t.Fatalf("timed out waiting for %s\n%s", what, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStarts waits until the child has started n times.
func (r *supervised) waitStarts(n int, timeout time.Duration) []childEvent {
	r.e.t.Helper()
	r.waitFor(fmt.Sprintf("%d start(s) of the command", n), timeout, func() bool { return len(r.starts()) >= n })
	return r.starts()
}

// logged reports whether the binary logged an event with code.
func (r *supervised) logged(code string) bool {
	return strings.Contains(r.stderr.String(), `"code":"`+code+`"`)
}

// logEvents returns the binary's JSON log events with code.
func (r *supervised) logEvents(code string) []map[string]any {
	var evs []map[string]any
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["code"] == code {
			evs = append(evs, ev)
		}
	}
	return evs
}

// stop sends TERM and returns the exit code, checking every output for
// canaries.
func (r *supervised) stop() int {
	r.e.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	return r.wait()
}

// wait waits for the binary to exit and returns its code, checking every
// output for canaries.
func (r *supervised) wait() int {
	r.e.t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		r.e.t.Fatalf("the binary did not exit\n%s", r.stderr.String())
	}
	r.e.assertNoCanary(r.stdout.String() + r.stderr.String())
	return r.code
}

func childEnv(ev childEvent) map[string]string {
	return envOf(&childReport{Env: ev.Env})
}

func TestSuperviseForwardsSignalsAndReturnsExitCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		onTerm []string
		want   int
	}{
		{"exit code", []string{"E2E_CHILD_EXIT=3"}, 3},
		{"death by signal", []string{"E2E_CHILD_ON_TERM=die"}, 128 + int(syscall.SIGTERM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t)
			v := e.canary("s")
			e.plant("s", v)
			r := e.startSupervised(superviseEnv(append(tc.onTerm, "S=file:s", "N8N_SECRETS_N8N=off")...), nil)
			child := r.waitStarts(1, 30*time.Second)[0]
			if child.PID == r.cmd.Process.Pid {
				t.Fatal("the command replaced the supervisor: it must run as a child")
			}
			if childEnv(child)["S"] != v {
				t.Error("the child did not get the secret's value")
			}
			for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
				syscall.SIGQUIT, syscall.SIGINT} {
				_ = r.cmd.Process.Signal(sig)
				r.waitFor("SIG"+signalName(sig)+" at the child", 10*time.Second, func() bool {
					return slices.ContainsFunc(r.events(), func(ev childEvent) bool { return ev.Signal == signalName(sig) })
				})
			}
			if code := r.stop(); code != tc.want {
				t.Errorf("exit %d, want the child's %d\n%s", code, tc.want, r.stderr.String())
			}
			if n := len(r.logEvents("SIGNAL_FORWARDED")); n < 6 {
				t.Errorf("%d SIGNAL_FORWARDED events, want one per signal", n)
			}
			exited := r.logEvents("CHILD_EXITED")
			if len(exited) != 1 || exited[0]["exit"] != float64(tc.want) {
				t.Errorf("CHILD_EXITED events %v, want one with exit %d", exited, tc.want)
			}
		})
	}
}

// procInfo is one process as /proc shows it.
type procInfo struct {
	pid, ppid int
	state     string
	comm      string
}

// processes lists every process of the machine (this test's PID namespace
// sees those of the namespaces it created).
func processes(t *testing.T) []procInfo {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var ps []procInfo
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:])
		if len(f) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, _ := strconv.Atoi(f[1])
		ps = append(ps, procInfo{pid: pid, ppid: ppid, state: f[0], comm: s[open+1 : closing]})
	}
	return ps
}

// TestSuperviseReapsOrphans runs the binary as an ordinary process (it
// registers as a child subreaper) and as PID 1 of a new PID namespace. The
// command leaves an orphan behind, which the kernel hands to the binary;
// when the orphan exits, the binary must reap it rather than leave a zombie.
func TestSuperviseReapsOrphans(t *testing.T) {
	for _, tc := range []struct {
		name string
		sys  *syscall.SysProcAttr
	}{
		{"subreaper", nil},
		{"pid 1", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sys != nil && os.Geteuid() != 0 && os.Getenv("CI") != "true" {
				t.Skip("a new PID namespace needs root")
			}
			e := newE2E(t)
			r := e.startSupervised(superviseEnv("N8N_SECRETS_N8N=off", "E2E_CHILD_ORPHAN=1.5", "E2E_CHILD_EXIT=0"), tc.sys)
			child := r.waitStarts(1, 30*time.Second)[0]
			if child.Orphan == 0 {
				t.Fatal("the command reported no orphan")
			}
			sup := r.cmd.Process.Pid
			orphans := func() []procInfo {
				var out []procInfo
				for _, p := range processes(t) {
					if p.ppid == sup && p.comm == "sleep" {
						out = append(out, p)
					}
				}
				return out
			}
			// The orphan is handed to the supervisor while it sleeps...
			r.waitFor("the orphan reparented to the supervisor", 10*time.Second, func() bool { return len(orphans()) > 0 })
			// ...and once it exited, nothing of it stays: no zombie.
			r.waitFor("the orphan reaped", 20*time.Second, func() bool { return len(orphans()) == 0 })
			if code := r.stop(); code != 0 {
				t.Errorf("exit %d, want 0\n%s", code, r.stderr.String())
			}
			if !r.logged("ZOMBIES_REAPED") {
				t.Error("no ZOMBIES_REAPED event")
			}
		})
	}
}

// k8sVolume lays out a secret volume the way Kubernetes' atomic writer
// does: the files live in a timestamped directory, ..data links to it, and
// each name links to ..data/<name>. swap writes a new directory and
// replaces ..data with one rename.
type k8sVolume struct {
	t   *testing.T
	dir string
	gen int
}

func newK8sVolume(t *testing.T, dir string, files map[string]string) *k8sVolume {
	v := &k8sVolume{t: t, dir: dir}
	v.swap(files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func (v *k8sVolume) swap(files map[string]string) {
	v.gen++
	ts := fmt.Sprintf("..2026_11_30_00_00_%02d.%d", v.gen, v.gen)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		v.t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(v.dir, ts, name), []byte(content), 0o644); err != nil {
			v.t.Fatal(err)
		}
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		v.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		v.t.Fatal(err)
	}
}

func TestSuperviseRestartsOnKubernetesSecretSwap(t *testing.T) {
	e := newE2E(t)
	old, next := e.canary("old"), e.canary("new")
	other := e.canary("other")
	vol := newK8sVolume(t, e.dir, map[string]string{"db_password": old + "\n", "other": other})
	r := e.startSupervised(superviseEnv("N8N_SECRETS_N8N=off", "DB_PASSWORD=file:db_password",
		"OTHER_FILE="+filepath.Join(e.dir, "other"), "N8N_SECRETS_REFRESH=300ms", "E2E_CHILD_EXIT=0"), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	if childEnv(first)["DB_PASSWORD"] != old || childEnv(first)["OTHER"] != other {
		t.Fatal("the first child did not get the files' values")
	}
	// The same content swapped in again is no change.
	vol.swap(map[string]string{"db_password": old + "\n", "other": other})
	time.Sleep(time.Second)
	if n := len(r.starts()); n != 1 {
		t.Fatalf("a swap with the same content restarted the command (%d starts)", n)
	}
	vol.swap(map[string]string{"db_password": next + "\n", "other": other})
	starts := r.waitStarts(2, 30*time.Second)
	got := childEnv(starts[1])
	if got["DB_PASSWORD"] != next || got["OTHER"] != other {
		t.Error("the restarted child did not get the new value")
	}
	if !slices.ContainsFunc(r.events(), func(ev childEvent) bool { return ev.PID == first.PID && ev.Signal == "TERM" }) {
		t.Error("the old child was not sent TERM")
	}
	restarted := r.logEvents("CHILD_RESTARTED")
	if len(restarted) != 1 || fmt.Sprint(restarted[0]["vars"]) != "[DB_PASSWORD]" {
		t.Errorf("CHILD_RESTARTED events %v, want one naming DB_PASSWORD", restarted)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}

func TestSupervisePolicies(t *testing.T) {
	t.Run("exit", func(t *testing.T) {
		e := newE2E(t)
		vol := newK8sVolume(t, e.dir, map[string]string{"s": e.canary("a")})
		r := e.startSupervised(superviseEnv("N8N_SECRETS_N8N=off", "S=file:s", "N8N_SECRETS_REFRESH=300ms",
			"N8N_SECRETS_ON_CHANGE=exit", "E2E_CHILD_EXIT=0"), nil)
		first := r.waitStarts(1, 30*time.Second)[0]
		vol.swap(map[string]string{"s": e.canary("b")})
		if code := r.wait(); code != 75 {
			t.Errorf("exit %d, want 75 for the orchestrator to start it again\n%s", code, r.stderr.String())
		}
		if len(r.starts()) != 1 {
			t.Error("the command was started again: exit must leave that to the orchestrator")
		}
		if !slices.ContainsFunc(r.events(), func(ev childEvent) bool { return ev.PID == first.PID && ev.Signal == "TERM" }) {
			t.Error("the command was not stopped with TERM")
		}
		if !r.logged("CHANGE_EXIT") {
			t.Error("no CHANGE_EXIT event")
		}
	})
	t.Run("signal", func(t *testing.T) {
		e := newE2E(t)
		vol := newK8sVolume(t, e.dir, map[string]string{"s": e.canary("a")})
		r := e.startSupervised(superviseEnv("N8N_SECRETS_N8N=off", "S=file:s", "N8N_SECRETS_REFRESH=300ms",
			"N8N_SECRETS_ON_CHANGE=signal:USR1", "E2E_CHILD_EXIT=0"), nil)
		first := r.waitStarts(1, 30*time.Second)[0]
		vol.swap(map[string]string{"s": e.canary("b")})
		r.waitFor("USR1 at the command", 30*time.Second, func() bool {
			return slices.ContainsFunc(r.events(), func(ev childEvent) bool { return ev.Signal == "USR1" })
		})
		// Signaled once, not at every refresh.
		time.Sleep(time.Second)
		n := 0
		for _, ev := range r.events() {
			if ev.Signal == "USR1" {
				n++
			}
		}
		if n != 1 || len(r.starts()) != 1 || r.starts()[0].PID != first.PID {
			t.Errorf("USR1 %d times, %d starts: want one signal and the same command", n, len(r.starts()))
		}
		if code := r.stop(); code != 0 {
			t.Errorf("exit %d\n%s", code, r.stderr.String())
		}
		if !r.logged("CHANGE_SIGNALED") {
			t.Error("no CHANGE_SIGNALED event")
		}
	})
	t.Run("none", func(t *testing.T) {
		e := newE2E(t)
		vol := newK8sVolume(t, e.dir, map[string]string{"s": e.canary("a")})
		r := e.startSupervised(superviseEnv("N8N_SECRETS_N8N=off", "S=file:s", "N8N_SECRETS_REFRESH=300ms",
			"N8N_SECRETS_ON_CHANGE=none", "E2E_CHILD_EXIT=0"), nil)
		r.waitStarts(1, 30*time.Second)
		vol.swap(map[string]string{"s": e.canary("b")})
		r.waitFor("CHANGE_IGNORED", 30*time.Second, func() bool { return r.logged("CHANGE_IGNORED") })
		time.Sleep(time.Second)
		if len(r.starts()) != 1 || len(r.logEvents("CHANGE_IGNORED")) != 1 {
			t.Errorf("%d starts, %d CHANGE_IGNORED: want the command untouched and one event", len(r.starts()), len(r.logEvents("CHANGE_IGNORED")))
		}
		if code := r.stop(); code != 0 {
			t.Errorf("exit %d\n%s", code, r.stderr.String())
		}
	})
}

func TestSuperviseSettingsErrors(t *testing.T) {
	e := newE2E(t)
	for _, tc := range []struct{ env, name string }{
		{"N8N_SECRETS_MODE=parent", "N8N_SECRETS_MODE"},
		{"N8N_SECRETS_ON_CHANGE=reload", "N8N_SECRETS_ON_CHANGE"},
		{"N8N_SECRETS_ON_CHANGE=signal:NOPE", "N8N_SECRETS_ON_CHANGE"},
		{"N8N_SECRETS_REFRESH=soon", "N8N_SECRETS_REFRESH"},
		{"N8N_SECRETS_SPLAY=-1s", "N8N_SECRETS_SPLAY"},
		{"N8N_GRACEFUL_SHUTDOWN_TIMEOUT=30s", "N8N_GRACEFUL_SHUTDOWN_TIMEOUT"},
	} {
		r := e.run([]string{"N8N_SECRETS_MODE=supervise", "E2E_CHILD_MODE=serve", tc.env}, "--", self(t))
		if r.code != 64 || !strings.Contains(r.stderr, tc.name) {
			t.Errorf("%s: exit %d, want 64 naming %s\n%s", tc.env, r.code, tc.name, r.stderr)
		}
		if r.child != nil {
			t.Errorf("%s: the command was started", tc.env)
		}
	}
}
