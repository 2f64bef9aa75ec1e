package main

// End-to-end tests: they build the real binary and run it. The command it
// execs is this test binary itself (TestMain dispatches on E2E_CHILD_OUT),
// which writes its pid, argv and environment to a file and exits with
// E2E_CHILD_EXIT, so each test sees exactly what a real command would get.
// Every run plants canary values and fails if the injector prints any.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

var binPath string

func TestMain(m *testing.M) {
	if out := os.Getenv("E2E_CHILD_OUT"); out != "" && os.Getenv("E2E_RUN_MAIN") == "" {
		childMain(out)
		return
	}
	if os.Getenv("E2E_RUN_MAIN") != "" {
		os.Exit(runMainWithHooks()) // the binary's run, with a test hook set
	}
	dir, err := os.MkdirTemp("", "n8n-secrets-e2e-")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "n8n-secrets")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building n8n-secrets: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// childReport is what the child writes.
type childReport struct {
	PID  int      `json:"pid"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
}

func childMain(out string) {
	if os.Getenv("E2E_CHILD_MODE") == "serve" {
		serveChild(out) // long-running, for supervise mode
		return
	}
	if os.Getenv("E2E_CHILD_MODE") == "print" {
		printChild() // prints a secret, for masking
		return
	}
	rep := childReport{PID: os.Getpid(), Args: os.Args, Env: os.Environ()}
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(out, b, 0o600); err != nil {
		os.Exit(99)
	}
	code, _ := strconv.Atoi(os.Getenv("E2E_CHILD_EXIT"))
	os.Exit(code)
}

// e2e is one test's sandbox: a secrets dir, a home, canaries.
type e2e struct {
	t        *testing.T
	dir      string // stands in for /run/secrets
	home     string
	canaries []string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	return &e2e{t: t, dir: t.TempDir(), home: t.TempDir()}
}

// canary returns a distinctive secret value and remembers it.
func (e *e2e) canary(label string) string {
	v := fmt.Sprintf("CANARY-%s-%d-%s", label, len(e.canaries), strings.Repeat("x", 4))
	e.canaries = append(e.canaries, v)
	return v
}

// plant writes a secret file under the secrets dir and registers its
// value (and, for JSON, the values inside) as canaries.
func (e *e2e) plant(name, content string, canaries ...string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.canaries = append(e.canaries, canaries...)
	return p
}

type result struct {
	code           int
	stdout, stderr string
	child          *childReport
	pid            int
}

// run starts the injector with env (plus PATH, HOME and the settings that
// point it at the sandbox) and args, and checks that nothing it printed
// holds a canary.
func (e *e2e) run(env []string, args ...string) result {
	e.t.Helper()
	out := filepath.Join(e.t.TempDir(), "child.json")
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir,
		"E2E_CHILD_OUT=" + out}, env...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Start()
	if err != nil {
		e.t.Fatal(err)
	}
	r := result{pid: cmd.Process.Pid}
	err = cmd.Wait()
	r.code = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.code = 128 + int(ws.Signal())
	}
	_ = err
	r.stdout, r.stderr = so.String(), se.String()
	e.assertNoCanary(r.stdout + r.stderr)
	if !textLogs(env, args) {
		e.assertLogLines(r.stderr)
	}
	if b, err := os.ReadFile(out); err == nil {
		r.child = &childReport{}
		if err := json.Unmarshal(b, r.child); err != nil {
			e.t.Fatal(err)
		}
	}
	return r
}

// textLogs reports whether a run asks for text logs.
func textLogs(env, args []string) bool {
	return slices.Contains(env, "N8N_SECRETS_LOG_FORMAT=text") || slices.Contains(args, "text") || slices.Contains(args, "--log-format=text")
}

// assertLogLines checks that every line the binary wrote on stderr is a
// JSON event of n8n-secrets with a code that codeTable lists.
// assertRefused checks that a start was refused: exit code, the command
// never started, and an event carrying the log code log.
func (r result) assertRefused(t *testing.T, code int, log string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstderr: %s", r.code, code, r.stderr)
	}
	if r.child != nil {
		t.Error("the command was started")
	}
	if !strings.Contains(r.stderr, `"code":"`+log+`"`) {
		t.Errorf("log lacks code %s:\n%s", log, r.stderr)
	}
}

func (e *e2e) assertLogLines(stderr string) {
	e.t.Helper()
	listed := map[string]bool{}
	for _, c := range codeTable() {
		listed[c.Name()] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			e.t.Errorf("a log line is not JSON: %.200q", line)
			continue
		}
		code, _ := ev["code"].(string)
		if ev["app"] != "n8n-secrets" || !listed[code] {
			e.t.Errorf("a log line lacks app or a listed code (code %q, msg %q)", code, ev["msg"])
		}
	}
}

func (e *e2e) assertNoCanary(s string) {
	e.t.Helper()
	for _, c := range e.canaries {
		if strings.Contains(s, c) {
			// Name the canary's position, never its text: the failure
			// message must not print the secret either.
			e.t.Errorf("injector output holds planted secret #%d", slices.Index(e.canaries, c))
		}
	}
}

// self is the command the injector execs: this test binary.
func self(t *testing.T) string {
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(c *childReport) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestExecKeepsPIDArgvAndBuildsEnv(t *testing.T) {
	e := newE2E(t)
	key := e.canary("key")
	dbpw := e.canary("dbpw")
	redis := e.canary("redis")
	e.plant("n8n_encryption_key", key+"\n")
	e.plant("db.json", `{"user":"n8n","password":"`+dbpw+`","port":5432}`)
	redisFile := e.plant("k8s/..data/redis", redis+"\r\n")
	link := filepath.Join(e.dir, "redis_password")
	if err := os.Symlink(redisFile, link); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"N8N_ENCRYPTION_KEY=file:n8n_encryption_key",
		"DB_POSTGRESDB_PASSWORD=file:db.json#password",
		"DB_POSTGRESDB_PORT=file:db.json#/port",
		"QUEUE_BULL_REDIS_PASSWORD_FILE=" + link,
		"N8N_SMTP_PASS=file:missing?optional=true",
		"VAULT_ADDR=http://127.0.0.1:1",
		"VAULT_TOKEN=" + e.canary("vaulttoken"),
		"AWS_REGION=eu-west-1",
		"N8N_SECRETS_TIMEOUT=5s",
		"N8N_SECRETS_PASSTHROUGH=VAULT_ADDR",
		"N8N_SECRETS_N8N=off",
		"PLAIN=hello world",
		"E2E_CHILD_EXIT=0",
	}
	argv := []string{self(t), "start", "--flag=x y", "", "--", "-v"}
	r := e.run(env, append([]string{"--"}, argv...)...)
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d, child ran: %v\nstderr: %s", r.code, r.child != nil, r.stderr)
	}
	if r.child.PID != r.pid {
		t.Errorf("child pid %d, injector pid %d: exec must replace the process", r.child.PID, r.pid)
	}
	if !slices.Equal(r.child.Args, argv) {
		t.Errorf("argv %q, want %q", r.child.Args, argv)
	}
	got := envOf(r.child)
	want := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": e.home, "E2E_CHILD_OUT": got["E2E_CHILD_OUT"],
		"N8N_ENCRYPTION_KEY":        key,
		"DB_POSTGRESDB_PASSWORD":    dbpw,
		"DB_POSTGRESDB_PORT":        "5432",
		"QUEUE_BULL_REDIS_PASSWORD": redis,
		"VAULT_ADDR":                "http://127.0.0.1:1",
		"AWS_REGION":                "eu-west-1",
		"PLAIN":                     "hello world",
		"E2E_CHILD_EXIT":            "0",
	}
	var gotNames, wantNames []string
	for k := range got {
		gotNames = append(gotNames, k)
	}
	for k := range want {
		wantNames = append(wantNames, k)
	}
	sort.Strings(gotNames)
	sort.Strings(wantNames)
	if !slices.Equal(gotNames, wantNames) {
		t.Fatalf("child env names %v, want %v", gotNames, wantNames)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("child %s differs from the expected value (%d vs %d bytes)", k, len(got[k]), len(v))
		}
	}
	// One event per variable and a summary, as JSON lines.
	events := jsonEvents(t, r.stderr)
	resolved := 0
	for _, ev := range events {
		if ev["msg"] == "resolved" {
			resolved++
		}
	}
	last := events[len(events)-1]
	if resolved != 4 || last["msg"] != "exec" {
		t.Fatalf("want 4 resolved events and a final exec summary, got %d events:\n%s", len(events), r.stderr)
	}
	if last["variables"] != 4.0 || last["fetches"] != 4.0 || last["optional_missing"] != 1.0 || last["version"] != "e2e" ||
		fmt.Sprint(last["providers"]) != "[file]" || last["env_removed"] != 5.0 || last["pid"] != float64(r.child.PID) {
		t.Errorf("summary %v", last)
	}
}

func jsonEvents(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stderr line is not JSON: %q", line)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestChildExitCodeComesBack(t *testing.T) {
	e := newE2E(t)
	e.plant("s", e.canary("s"))
	for _, code := range []int{0, 1, 3, 42} {
		r := e.run([]string{"S=file:s", "E2E_CHILD_EXIT=" + strconv.Itoa(code), "N8N_SECRETS_N8N=off"}, "--", self(t))
		if r.code != code || r.child == nil {
			t.Errorf("child exit %d came back as %d", code, r.code)
		}
	}
}

func TestBadInputs(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		args    []string // nil: "-- <self>"
		code    int
		varName string // the message must name it
		errCode string // the stable code in the log, if any
	}{
		{"unknown scheme option", []string{"K=vault://secret/x?verison=2"}, nil, 65, "K", "BAD_REFERENCE"},
		{"bad version", []string{"K=vault://secret/x?version=abc"}, nil, 65, "K", "BAD_REFERENCE"},
		{"query after selector", []string{"K=vault://secret/x#k?version=2"}, nil, 65, "K", "BAD_REFERENCE"},
		{"empty vault path", []string{"K=vault://"}, nil, 65, "K", "BAD_REFERENCE"},
		{"scheme typo", []string{"K=vault:secret/x"}, nil, 65, "K", "BAD_REFERENCE"},
		{"file with host", []string{"K=file://host/x"}, nil, 65, "K", "BAD_REFERENCE"},
		{"file escaping dir", []string{"K=file:../x"}, nil, 65, "K", "BAD_REFERENCE"},
		{"empty selector", []string{"K=file:s#"}, nil, 65, "K", "BAD_REFERENCE"},
		{"awssm bad arn", []string{"K=awssm://arn:aws:s3:::x"}, nil, 65, "K", "BAD_REFERENCE"},
		{"missing file", []string{"K=file:nope"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"missing abs file", []string{"K=file:///nonexistent/x"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"missing NAME_FILE", []string{"K_FILE=@dir/nope"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"missing NAME_FILE under /run/secrets", []string{"K_FILE=/run/secrets/n8n-secrets-test-nope"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"relative NAME_FILE listed", []string{"K_FILE=relative/x", "N8N_SECRETS_FILE_VARS=K_FILE"}, nil, 65, "K_FILE", "BAD_REFERENCE"},
		{"NAME_FILE listed by NAME", []string{"K_FILE=/nonexistent/x", "N8N_SECRETS_FILE_VARS=K"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"NAME_FILE holding a reference", []string{"K_FILE=file:s"}, nil, 65, "K_FILE", "BAD_REFERENCE"},
		{"missing JSON key", []string{"K=file:json#nope"}, nil, 65, "K", "KEY_NOT_FOUND"},
		{"missing JSON pointer", []string{"K=file:json#/a/b"}, nil, 65, "K", "KEY_NOT_FOUND"},
		{"selector on non-JSON", []string{"K=file:s#key"}, nil, 65, "K", "BAD_DATA"},
		{"NAME and NAME_FILE", []string{"K=x", "K_FILE=/run/secrets/k"}, nil, 65, "K", "VARIABLE_CONFLICT"},
		{"misspelled vault scheme", []string{"K=vualt://secret/x#k"}, nil, 65, "K", "BAD_REFERENCE"},
		{"misspelled awssm scheme", []string{"K=awsm://prod/db"}, nil, 65, "K", "BAD_REFERENCE"},
		{"misspelled file scheme", []string{"K=flie:///run/secrets/x"}, nil, 65, "K", "BAD_REFERENCE"},
		{"capitals, bad option", []string{"K=VAULT://secret/x?verison=2"}, nil, 65, "K", "BAD_REFERENCE"},
		{"capitals, missing file", []string{"K=FILE:nope"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"option name not echoed", []string{"K=file:s?@canary=abc"}, nil, 65, "K", "BAD_REFERENCE"},
		{"file name not echoed", []string{"K=file:@canary"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"secrets dir missing", []string{"K=file:s", "N8N_SECRETS_DIR=/nonexistent-n8n-secrets"}, nil, 65, "K", "SECRET_NOT_FOUND"},
		{"symlink loop", []string{"K=file:loop"}, nil, 65, "K", "BAD_DATA"},
		{"value over 128 KiB", []string{"K=file:big"}, nil, 65, "K", "VALUE_TOO_LARGE"},
		{"environment too large", []string{"A=file:mid", "B=file:mid#/x", "K=@many"}, nil, 65, "", "VALUE_TOO_LARGE"},
		{"NUL byte", []string{"K=file:nul"}, nil, 65, "K", "BAD_DATA"},
		{"directory", []string{"K=file:dir"}, nil, 65, "K", "BAD_DATA"},
		{"unreadable file", []string{"K=file:unreadable"}, nil, 77, "K", "PERMISSION_DENIED"},
		{"vault not configured", []string{"K=vault://secret/x"}, nil, 64, "K", ""},
		{"no command", []string{"K=file:s"}, []string{"--"}, 64, "", ""},
		{"no -- before command", []string{"K=file:s"}, []string{"sh"}, 64, "", ""},
		// K names a missing file: 127/126 rather than 65 shows the command
		// is looked up before any secret is fetched.
		{"command not found", []string{"K=file:nope"}, []string{"--", "no-such-command-n8n-secrets"}, 127, "", "COMMAND_NOT_FOUND"},
		{"command not executable", []string{"K=file:nope"}, []string{"--", "@notexec"}, 126, "", "COMMAND_NOT_EXECUTABLE"},
		{"bad timeout", []string{"N8N_SECRETS_TIMEOUT=soon"}, nil, 64, "N8N_SECRETS_TIMEOUT", ""},
		{"bad concurrency", []string{"N8N_SECRETS_CONCURRENCY=0"}, nil, 64, "N8N_SECRETS_CONCURRENCY", ""},
		{"bad log format", []string{"N8N_SECRETS_LOG_FORMAT=xml"}, nil, 64, "N8N_SECRETS_LOG_FORMAT", ""},
		{"bad n8n mode", []string{"N8N_SECRETS_N8N=maybe"}, nil, 64, "N8N_SECRETS_N8N", ""},
		{"bad settings mode", []string{"N8N_SECRETS_N8N_SETTINGS=always"}, nil, 64, "N8N_SECRETS_N8N_SETTINGS", "USAGE"},
		{"bad fingerprint", []string{"N8N_SECRETS_EXPECT_KEY_FINGERPRINT=xyz"}, nil, 64, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT", "USAGE"},
		{"bad allow-http", []string{"N8N_SECRETS_ALLOW_HTTP=maybe"}, nil, 64, "N8N_SECRETS_ALLOW_HTTP", "USAGE"},
		{"bad log level", []string{"N8N_SECRETS_LOG_LEVEL=loud"}, nil, 64, "N8N_SECRETS_LOG_LEVEL", "USAGE"},
		{"bad file-vars pattern", []string{"N8N_SECRETS_FILE_VARS=A["}, nil, 64, "N8N_SECRETS_FILE_VARS", "USAGE"},
		{"negative timeout", []string{"N8N_SECRETS_TIMEOUT=-1s"}, nil, 64, "N8N_SECRETS_TIMEOUT", "USAGE"},
		{"misspelled subcommand", nil, []string{"chek"}, 64, "check", "USAGE"},
		{"check with an argument", nil, []string{"check", "extra"}, 64, "argument 2", "USAGE"},
		{"keygen with an argument", nil, []string{"keygen", "x"}, 64, "keygen", "USAGE"},
		{"vault http off loopback", []string{"K=vault://secret/x", "VAULT_ADDR=http://vault.invalid:8200", "VAULT_TOKEN=t"}, nil, 64, "VAULT_ADDR", "PROVIDER_NOT_CONFIGURED"},
		{"awssm without region", []string{"K=awssm://prod/db", "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}, nil, 64, "AWS_REGION", "PROVIDER_NOT_CONFIGURED"},
		{"awssm http off loopback", []string{"K=awssm://prod/db", "AWS_REGION=eu-west-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://sm.invalid"}, nil, 64, "AWS_ENDPOINT_URL", "PROVIDER_NOT_CONFIGURED"},
		{"bad flag", nil, []string{"--timeout", "x", "--", "true"}, 64, "timeout", ""},
		{"unknown flag", nil, []string{"--nope", "--", "true"}, 64, "nope", ""},
		{"several failures", []string{"A=file:nope", "B=file:json#nope", "C=file:s#k"}, nil, 65, "A", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t)
			secret := e.canary("s")
			e.plant("s", secret)
			e.plant("json", `{"a":{"x":"`+e.canary("j")+`"}}`)
			e.plant("nul", "a\x00"+e.canary("nul"))
			e.plant("unreadable", e.canary("u"))
			os.Chmod(filepath.Join(e.dir, "unreadable"), 0)
			os.Symlink("loop", filepath.Join(e.dir, "loop"))
			e.plant("big", strings.Repeat("b", inject.MaxEnvString))
			e.plant("mid", `{"x":"`+strings.Repeat("m", 120<<10)+`"}`)
			lit := e.canary("literal")
			if os.Geteuid() == 0 && tt.code == 77 {
				t.Skip("root reads files whatever their mode")
			}
			os.Mkdir(filepath.Join(e.dir, "dir"), 0o755)
			notexec := e.plant("notexec", "#!/bin/sh\n")
			args := tt.args
			if args == nil {
				args = []string{"--", self(t)}
			}
			args = slices.Clone(args)
			for i, a := range args {
				if a == "@notexec" {
					args[i] = notexec
				}
			}
			var env []string
			for _, kv := range tt.env {
				kv = strings.ReplaceAll(kv, "@dir", e.dir)
				kv = strings.ReplaceAll(kv, "@canary", lit)
				if kv == "K=@many" {
					// 120 KiB values: each fits, together they exceed what
					// execve takes (a quarter of the stack limit).
					for i := range inject.ArgSpace()/(120<<10) + 2 {
						env = append(env, fmt.Sprintf("M%d=file:mid", i))
					}
					continue
				}
				env = append(env, kv)
			}
			r := e.run(append([]string{"N8N_SECRETS_N8N=off"}, env...), args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			if r.child != nil {
				t.Error("the command was started")
			}
			if tt.varName != "" && !strings.Contains(r.stderr, tt.varName) {
				t.Errorf("message does not name %s:\n%s", tt.varName, r.stderr)
			}
			if tt.errCode != "" && !strings.Contains(r.stderr, `"code":"`+tt.errCode+`"`) {
				t.Errorf("log lacks code %s:\n%s", tt.errCode, r.stderr)
			}
		})
	}
}

func TestSeveralFailuresAllReported(t *testing.T) {
	e := newE2E(t)
	e.plant("json", `{"a":"`+e.canary("a")+`"}`)
	r := e.run([]string{"A=file:nope", "B=file:json#nope", "N8N_SECRETS_N8N=off"}, "check")
	if r.code != 65 || !strings.Contains(r.stdout, "A ") || !strings.Contains(r.stdout, "B ") ||
		!strings.Contains(r.stdout, "SECRET_NOT_FOUND") || !strings.Contains(r.stdout, "KEY_NOT_FOUND") {
		t.Errorf("check must list both failures, exit 65; got %d\n%s", r.code, r.stdout)
	}
}

func TestSignalDuringResolutionStopsWithoutExec(t *testing.T) {
	e := newE2E(t)
	fifo := filepath.Join(e.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		out := filepath.Join(t.TempDir(), "child.json")
		cmd := exec.Command(binPath, "--", self(t))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir,
			"E2E_CHILD_OUT=" + out, "K=file:fifo", "N8N_SECRETS_N8N=off"}
		var se strings.Builder
		cmd.Stderr = &se
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w := openFIFOWriter(t, fifo, 30*time.Second) // it reads the FIFO
		cmd.Process.Signal(sig)
		cmd.Wait()
		w.Close()
		if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
			t.Errorf("%v: exit %d, want %d\n%s", sig, code, 128+int(sig), se.String())
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: the command was started", sig)
		}
		if !strings.Contains(se.String(), `"code":"CANCELED"`) {
			t.Errorf("%v: log lacks CANCELED:\n%s", sig, se.String())
		}
		// The one event to alert on says the exit code the process has.
		if want := fmt.Sprintf(`"exit":%d`, 128+int(sig)); !strings.Contains(notStartingLine(se.String()), want) {
			t.Errorf("%v: the NOT_STARTING event does not say %s:\n%s", sig, want, se.String())
		}
	}
}

// notStartingLine returns the NOT_STARTING event of a JSON log, or "".
func notStartingLine(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"code":"NOT_STARTING"`) {
			return l
		}
	}
	return ""
}

func TestDeadlineOnBlockedSecret(t *testing.T) {
	e := newE2E(t)
	fifo := filepath.Join(e.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	r := e.run([]string{"K=file:fifo", "N8N_SECRETS_N8N=off", "N8N_SECRETS_TIMEOUT=300ms"}, "--", self(t))
	if r.code != 69 || r.child != nil || !strings.Contains(r.stderr, "PROVIDER_UNAVAILABLE") {
		t.Errorf("exit %d, want 69 without exec:\n%s", r.code, r.stderr)
	}
}

func TestFlagsOverrideVariables(t *testing.T) {
	e := newE2E(t)
	other := t.TempDir()
	v := e.canary("v")
	if err := os.WriteFile(filepath.Join(other, "s"), []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run([]string{"K=file:s", "N8N_SECRETS_N8N=off"}, "--dir", other, "--log-format", "text", "--", self(t))
	if r.code != 0 || r.child == nil || envOf(r.child)["K"] != v {
		t.Fatalf("--dir did not override N8N_SECRETS_DIR: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "level=INFO msg=resolved") {
		t.Errorf("--log-format text ignored:\n%s", r.stderr)
	}
}

func TestCheckCommand(t *testing.T) {
	e := newE2E(t)
	e.plant("core.json", `{"encryption_key":"`+e.canary("key")+`","other":"`+e.canary("o")+`"}`)
	env := []string{"N8N_ENCRYPTION_KEY=file:core.json#encryption_key", "OTHER=file:core.json#other",
		"OPT=file:none?optional=true", "N8N_BLOCK_ENV_ACCESS_IN_NODE=true"}
	r := e.run(env, "check")
	if r.code != 0 {
		t.Fatalf("check exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"VARIABLE", "N8N_ENCRYPTION_KEY", "core.json#encryption_key", "missing (optional)", "key fingerprint", "\nok\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = e.run(env, "check", "--json")
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || len(rep.Variables) != 3 || rep.N8N == nil || rep.N8N.Fingerprint == "" {
		t.Fatalf("check --json: %v\n%s", err, r.stdout)
	}
	r = e.run([]string{"EXECUTIONS_MODE=queue"}, "check", "--role", "worker")
	if r.code != 78 || !strings.Contains(r.stdout, "N8N_KEY_MISSING") || !strings.Contains(r.stdout, "problems found (exit 78)") {
		t.Errorf("check must show the guard's refusal with exit 78; got %d\n%s", r.code, r.stdout)
	}
	r = e.run(append(env, "BAD=file:nope"), "check", "--json")
	if r.code != 65 || !strings.Contains(r.stdout, `"ok": false`) || !strings.Contains(r.stdout, "SECRET_NOT_FOUND") {
		t.Errorf("check with a missing secret: exit %d\n%s", r.code, r.stdout)
	}
}

func TestKeygen(t *testing.T) {
	e := newE2E(t)
	a, b := e.run(nil, "keygen"), e.run(nil, "keygen")
	if a.code != 0 || len(a.stdout) != 44 || strings.HasSuffix(a.stdout, "\n") {
		t.Fatalf("keygen printed %d bytes (exit %d), want 44 with no newline", len(a.stdout), a.code)
	}
	if a.stdout == b.stdout {
		t.Error("two keys are equal")
	}
}

func TestVersionAndHelp(t *testing.T) {
	e := newE2E(t)
	if r := e.run(nil, "version"); r.code != 0 || r.stdout != "n8n-secrets e2e\n" {
		t.Errorf("version: %q", r.stdout)
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		r := e.run(nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "vault://<path>") || !strings.Contains(r.stdout, "Exit codes") {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}

// openFIFOWriter opens path for writing once a reader has it open (a
// non-blocking open fails with ENXIO before), polling until limit.
func openFIFOWriter(t *testing.T, path string, limit time.Duration) *os.File {
	t.Helper()
	end := time.Now().Add(limit)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return f
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(end) {
			t.Fatalf("no reader opened %s: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
