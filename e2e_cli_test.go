package main

// The command line as people coming from envconsul, op run, berglas or
// chamber type it: per-command help, run and exec, errors at a terminal,
// flag errors named by the flag typed, and arguments never echoed.

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// TestPerCommandHelp: CMD --help, CMD -h and help CMD print that command's
// usage on stdout and exit 0, for every command; its own flags are named.
func TestPerCommandHelp(t *testing.T) {
	e := newE2E(t)
	for _, c := range commandList {
		flags, _ := c.setup()
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			r := e.run(nil, args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: n8n-secrets "+c.name) || r.stderr != "" {
				t.Errorf("%v: exit %d, want 0 and the command's usage on stdout\nstdout: %.300s\nstderr: %.300s", args, r.code, r.stdout, r.stderr)
				continue
			}
			for _, f := range flags {
				if !strings.Contains(r.stdout, "--"+f.Name) {
					t.Errorf("%v: the help does not name --%s", args, f.Name)
				}
			}
		}
	}
	if r := e.run(nil, "help", "nosuchcommand"); r.code != 64 {
		t.Errorf("help of an unknown command: exit %d, want 64", r.code)
	}
}

// TestHelpListsEverySetting: the help names every setting's flag and
// variable (--file-vars was once missing), and each command that takes the
// settings lists them in its own help.
func TestHelpListsEverySetting(t *testing.T) {
	e := newE2E(t)
	r := e.run(nil, "help")
	if !strings.Contains(r.stdout, "--file-vars LIST") {
		t.Error("the help lacks --file-vars")
	}
	for _, d := range settings.Table {
		if !strings.Contains(r.stdout, "--"+d.Flag) || !strings.Contains(r.stdout, d.VarName()) {
			t.Errorf("the help lacks --%s or %s", d.Flag, d.VarName())
		}
	}
	r = e.run(nil, "check", "--help")
	for _, d := range settings.Table {
		if !strings.Contains(r.stdout, "--"+d.Flag) {
			t.Errorf("check --help lacks --%s", d.Flag)
		}
	}
}

// TestCheckRoleTypo: a role check does not know is a usage error, not a
// check of something else that passes.
func TestCheckRoleTypo(t *testing.T) {
	e := newE2E(t)
	var env []string // no key: a worker is refused, a lone main is not
	if r := e.run(env, "check", "--role", "worker"); r.code != 78 {
		t.Fatalf("check --role worker without a key: exit %d, want 78", r.code)
	}
	for _, role := range []string{"worekr", "master", "Worker", ""} {
		r := e.run(env, "check", "--role", role)
		if r.code != 64 || !strings.Contains(r.stderr, "--role") || !strings.Contains(r.stderr, `"code":"USAGE"`) {
			t.Errorf("check --role %q: exit %d, want 64 naming --role\n%s", role, r.code, r.stderr)
		}
	}
}

// TestRunAndExecSubcommands: run and exec are the default mode, named;
// with or without "--".
func TestRunAndExecSubcommands(t *testing.T) {
	e := newE2E(t)
	v := e.canary("v")
	e.plant("s", v)
	env := []string{"K=file:s", "N8N_SECRETS_N8N=off"}
	for _, args := range [][]string{{"run", "--", self(t), "a"}, {"exec", "--", self(t), "a"}, {"run", self(t), "a"},
		{"run", "--timeout", "5s", "--", self(t), "a"}, {"exec", self(t), "a"}} {
		r := e.run(env, args...)
		if r.code != 0 || r.child == nil || envOf(r.child)["K"] != v || r.child.PID != r.pid {
			t.Errorf("%v: exit %d, child ran %v\n%s", args[:len(args)-2], r.code, r.child != nil, r.stderr)
			continue
		}
		if got := r.child.Args[1:]; len(got) != 1 || got[0] != "a" {
			t.Errorf("%v: the command got %q", args[:len(args)-2], got)
		}
	}
	for _, args := range [][]string{{"run"}, {"run", "--"}, {"exec", "--timeout", "5s"}} {
		if r := e.run(env, args...); r.code != 64 || r.child != nil {
			t.Errorf("%v: exit %d, want 64", args, r.code)
		}
	}
}

// openPTY returns a pseudo-terminal: the controller, to read, and the
// terminal, for a child's stderr.
func openPTY(t *testing.T) (controller, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here:", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skip("cannot unlock a pseudo-terminal:", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skip("no pseudo-terminal number:", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("cannot open the pseudo-terminal:", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// runOnTerminal runs the binary with stderr on a terminal and returns
// what it wrote there.
func runOnTerminal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	m, s := openPTY(t)
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stderr = s
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	s.Close()
	m.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(m) // ends with EIO once the terminal is closed
	return string(out)
}

// TestErrorsAtTerminalAreText: with stderr on a terminal and no format
// chosen, errors are text, as op, envconsul and vault print them; chosen
// JSON stays JSON; and off a terminal (a container's log) it is JSON.
func TestErrorsAtTerminalAreText(t *testing.T) {
	out := runOnTerminal(t, nil, "chek")
	if !strings.Contains(out, "n8n-secrets: error: argument 1: unknown command") || strings.Contains(out, `{"time"`) {
		t.Errorf("at a terminal, want text:\n%s", out)
	}
	out = runOnTerminal(t, []string{"N8N_SECRETS_LOG_FORMAT=json"}, "chek")
	if !strings.Contains(out, `"code":"USAGE"`) {
		t.Errorf("at a terminal with JSON chosen, want JSON:\n%s", out)
	}
	e := newE2E(t)
	if r := e.run(nil, "chek"); !strings.HasPrefix(r.stderr, `{"time"`) {
		t.Errorf("off a terminal, want JSON:\n%s", r.stderr)
	}
}

// TestSettingErrorsNameTheSource: a value without a unit says a unit is
// needed; an error in a flag names the flag typed and its position, one in
// a variable names the variable.
func TestSettingErrorsNameTheSource(t *testing.T) {
	e := newE2E(t)
	tests := []struct {
		env  []string
		args []string
		want []string
		not  string
	}{
		{nil, []string{"--timeout", "30", "--", "true"}, []string{"argument 2 (--timeout)", "needs a unit"}, "N8N_SECRETS_TIMEOUT"},
		{[]string{"N8N_SECRETS_TIMEOUT=30"}, []string{"--", "true"}, []string{"N8N_SECRETS_TIMEOUT", "needs a unit"}, "--timeout"},
		{nil, []string{"--concurrency", "0", "--", "true"}, []string{"argument 2 (--concurrency)", "between 1 and 1024"}, "N8N_SECRETS_CONCURRENCY"},
		{nil, []string{"check", "--refresh=-1s"}, []string{"argument 2 (--refresh)"}, "N8N_SECRETS_REFRESH"},
		{nil, []string{"--splay", "soon", "--", "true"}, []string{"argument 2 (--splay)", "not a duration"}, "N8N_SECRETS_SPLAY"},
		{nil, []string{"--log-level", "loud", "--", "true"}, []string{"argument 2 (--log-level)", "debug, info, warn, error"}, "N8N_SECRETS_LOG_LEVEL"},
		{[]string{"N8N_SECRETS_MODE=supervise"}, []string{"--mode", "exec", "--mask", "--", "true"}, []string{"argument 3 (--mask)", "supervise mode only"}, ""},
	}
	for _, tt := range tests {
		r := e.run(tt.env, tt.args...)
		if r.code != 64 {
			t.Errorf("%v %v: exit %d, want 64", tt.env, tt.args, r.code)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v %v: the message lacks %q:\n%s", tt.env, tt.args, w, r.stderr)
			}
		}
		if tt.not != "" && strings.Contains(r.stderr, tt.not) {
			t.Errorf("%v %v: the message names %s, which was not what was typed:\n%s", tt.env, tt.args, tt.not, r.stderr)
		}
	}
}

// TestArgumentsNeverEchoed: a key pasted as a stray argument, as a flag's
// value or in place of a command, never reaches the log: every error names
// the argument's position instead, in every command.
func TestArgumentsNeverEchoed(t *testing.T) {
	e := newE2E(t)
	key := "CANARYk3yPastedByMistake0123456789abcdefXY="
	lower := "canarylowercasekeypastedasaflagnameabcdef"
	e.canaries = append(e.canaries, key, lower, strings.TrimSuffix(key, "=")[:32])
	tests := [][]string{
		{key},
		{"--timeout", "5s", key},
		{"--" + lower, "--", "true"},
		{"-" + key, "--", "true"},
		{"--timeout", key, "--", "true"},
		{"--log-format", key, "--", "true"},
		{"--allow-http=" + key, "--", "true"},
		{"check", key},
		{"check", "--role", key},
		{"check", "--json=" + key},
		{"fingerprint", key},
		{"keygen", key},
		{"codes", key},
		{"version", key},
		{"help", key},
		{"help", "check", key},
		{"audit", "--format", key},
		{"audit", "--fail-on=" + key},
		{"verify-key", key},
		{"rekey", "--to", "N8N_ENCRYPTION_KEY", key},
		{"rekey", "--to", "N8N_ENCRYPTION_KEY", "--apply=" + key},
		{"rekey", "--signing-secrets", key},
		{"run", "--dir=/x", "--concurrency", key, "--", "true"},
		{"audit", key},
		{"audit", ".", "--format", "json", key},
		{"--env-file", key, "--", "true"},
		{"check", "--env-file=" + key},
	}
	for _, args := range tests {
		r := e.run([]string{"N8N_SECRETS_N8N=off"}, args...)
		if r.code != 64 {
			t.Errorf("%d arguments: exit %d, want 64\n%s", len(args), r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "argument ") {
			t.Errorf("%d arguments: the error does not name a position\n%s", len(args), r.stderr)
		}
	}
	// A key in place of the command: not found, and not named.
	hexKey := "0123456789abcdef0123456789abcdef0123456789abcdef"
	e.canaries = append(e.canaries, hexKey)
	for _, cmd := range []string{key, hexKey, "/bin/" + key} {
		if r := e.run([]string{"N8N_SECRETS_N8N=off"}, "--", cmd); r.code != 127 || !strings.Contains(r.stderr, "COMMAND_NOT_FOUND") {
			t.Errorf("a key as the command: exit %d, want 127\n%s", r.code, r.stderr)
		}
	}
	if r := e.run([]string{"N8N_SECRETS_N8N=off"}, "--", "no-such-command-n8n-secrets"); !strings.Contains(r.stderr, `"command":"no-such-command-n8n-secrets"`) {
		t.Errorf("a plain command name that is not found is named:\n%s", r.stderr)
	}
	for _, env := range [][]string{{"N8N_SECRETS_SKIP=a,[" + key}, {"N8N_SECRETS_TIMEOUT=" + key}, {"N8N_SECRETS_ON_CHANGE=signal:" + key}} {
		if r := e.run(env, "--", "true"); r.code != 64 {
			t.Errorf("a bad setting: exit %d, want 64", r.code)
		}
	}
}
