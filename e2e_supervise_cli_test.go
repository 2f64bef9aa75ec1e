package main

// Supervise mode's settings named as the peers name them: a kill signal
// and a kill timeout of our own, and masking of the command's output.

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// printChild is the command for masking: it prints the values of the
// variables E2E_PRINT_VARS names, on stdout in two writes 20 ms apart
// (a value split across writes) and on stderr in one, then exits.
func printChild() {
	for _, name := range strings.Split(os.Getenv("E2E_PRINT_VARS"), ",") {
		v := os.Getenv(name)
		half := len(v) / 2
		os.Stdout.WriteString("value of " + name + ": " + v[:half])
		time.Sleep(20 * time.Millisecond)
		os.Stdout.WriteString(v[half:] + " (end)\n")
		os.Stderr.WriteString("stderr " + name + ": " + v + "\n")
	}
	os.Exit(0)
}

// TestSuperviseMasksOutput: with N8N_SECRETS_MASK, a command that prints
// its secrets (a canary, whole and split across writes, on stdout and
// stderr) shows <concealed> in their place; short values are left alone.
func TestSuperviseMasksOutput(t *testing.T) {
	e := newE2E(t)
	secret := e.canary("printed")
	e.plant("s", secret)
	e.plant("db.json", `{"password":"`+e.canary("db")+`","port":5432}`)
	// Text logs: the command's own lines share stderr.
	env := []string{"N8N_SECRETS_LOG_FORMAT=text", "N8N_SECRETS_MODE=supervise", "N8N_SECRETS_MASK=true", "N8N_SECRETS_N8N=off", "E2E_CHILD_MODE=print",
		"S=file:s", "URL=postgres://n8n:${file:db.json#password}@db", "PORT=file:db.json#port", "E2E_PRINT_VARS=S,URL,PORT"}
	r := e.run(env, "--", self(t)) // fails on any canary in the output
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"value of S: <concealed> (end)", "value of URL: postgres://n8n:<concealed>@db (end)", "value of PORT: 5432 (end)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "stderr S: <concealed>") {
		t.Errorf("stderr is not masked:\n%s", r.stderr)
	}
	// Without masking, the same run prints the canary: the test can fail.
	r2 := e.runUnchecked(slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return kv == "N8N_SECRETS_MASK=true" }), "--", self(t))
	if !strings.Contains(r2, secret) {
		t.Error("without masking the canary should show: the check is blind")
	}
}

// runUnchecked runs the binary and returns stdout and stderr, without the
// canary check (for a control run).
func (e *e2e) runUnchecked(env []string, args ...string) string {
	saved := e.canaries
	e.canaries = nil
	defer func() { e.canaries = saved }()
	r := e.run(env, args...)
	return r.stdout + r.stderr
}

// TestSuperviseKillSignalAndTimeout: new values stop the command with
// N8N_SECRETS_KILL_SIGNAL, and N8N_SECRETS_KILL_TIMEOUT (not n8n's
// N8N_GRACEFUL_SHUTDOWN_TIMEOUT, also set) later KILL follows.
func TestSuperviseKillSignalAndTimeout(t *testing.T) {
	e := newE2E(t)
	e.plant("s", e.canary("v1"))
	r := e.startSupervised(superviseEnv("S=file:s", "N8N_SECRETS_N8N=off", "N8N_SECRETS_REFRESH=200ms",
		"N8N_SECRETS_KILL_SIGNAL=USR2", "N8N_SECRETS_KILL_TIMEOUT=1s"), nil)
	first := r.waitStarts(1, 30*time.Second)[0]
	e.plant("s", e.canary("v2"))
	r.waitStarts(2, 30*time.Second)
	var sigs []string
	for _, ev := range r.events() {
		if ev.PID == first.PID && ev.Event == "signal" {
			sigs = append(sigs, ev.Signal)
		}
	}
	if !slices.Equal(sigs, []string{"USR2"}) {
		t.Errorf("the first command got %v, want USR2 alone", sigs)
	}
	stopping := r.logEvents("CHILD_STOPPING")
	if len(stopping) != 1 || stopping[0]["signal"] != "USR2" || stopping[0]["grace_s"] != 1.0 {
		t.Errorf("CHILD_STOPPING %v, want signal USR2 and grace_s 1", stopping)
	}
	if !r.logged("CHILD_KILLED") {
		t.Error("the command ignored USR2: KILL must follow after the kill timeout")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestSuperviseKillSettingsErrors(t *testing.T) {
	e := newE2E(t)
	for _, tc := range []struct{ env, name string }{
		{"N8N_SECRETS_KILL_SIGNAL=KILL", "N8N_SECRETS_KILL_SIGNAL"},
		{"N8N_SECRETS_KILL_SIGNAL=WINCH", "N8N_SECRETS_KILL_SIGNAL"},
		{"N8N_SECRETS_KILL_TIMEOUT=30", "needs a unit"},
		{"N8N_SECRETS_KILL_TIMEOUT=-1s", "N8N_SECRETS_KILL_TIMEOUT"},
	} {
		r := e.run([]string{"N8N_SECRETS_MODE=supervise", "E2E_CHILD_MODE=serve", tc.env}, "--", self(t))
		if r.code != 64 || !strings.Contains(r.stderr, tc.name) || r.child != nil {
			t.Errorf("%s: exit %d, want 64 naming %s\n%s", tc.env, r.code, tc.name, r.stderr)
		}
	}
}
