// Package n8nreal runs the real n8n in tests: its CLI (import:credentials,
// export:credentials --decrypted) and its server (n8n start, with a health
// wait on a free loopback port and a stop with SIGTERM), each node with a
// fresh N8N_USER_FOLDER.
//
// The installs come from `make n8n` (tools/n8n/install.sh), which puts them
// in a cache outside the repository:
// ${XDG_CACHE_HOME:-$HOME/.cache}/n8n-secrets/n8n-<version>. [V1] and [V2]
// find them through N8NREAL_N8N1 and N8NREAL_N8N2 (set by the Makefile),
// else in that cache. When an install is missing the test is skipped,
// except under CI=true, where it fails: CI installs both (.ci/run runs
// `make test`, which depends on `make n8n`). Under -short (`make
// test-short`) they are skipped.
//
// Every n8n run gets the environment the project's n8n test data was made
// with (telemetry, templates, version checks and personalisation off;
// N8N_RUNNERS_ENABLED=false for 1.x; N8N_EXPRESSION_ENGINE=legacy, since
// the installs skip native build scripts and 2.x's default engine needs
// isolated-vm), plus what the test adds (the key, the database settings).
package n8nreal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
)

// Environment variables naming the installs (a directory made by
// tools/n8n/install.sh).
const (
	EnvV1 = "N8NREAL_N8N1"
	EnvV2 = "N8NREAL_N8N2"
)

// Timeouts: a CLI command (import, export) and a start until healthy. A
// cold `n8n start` loads every node package and runs the migrations of an
// empty database: tens of seconds on a busy two-core machine.
const (
	CommandTimeout = 5 * time.Minute
	StartTimeout   = 5 * time.Minute
	StopTimeout    = 60 * time.Second
)

// baseEnv is the environment of every n8n run (see the package doc).
var baseEnv = []string{
	"N8N_DIAGNOSTICS_ENABLED=false",
	"N8N_VERSION_NOTIFICATIONS_ENABLED=false",
	"N8N_TEMPLATES_ENABLED=false",
	"N8N_PERSONALIZATION_ENABLED=false",
	"N8N_EXPRESSION_ENGINE=legacy",
	"N8N_LISTEN_ADDRESS=127.0.0.1",
}

// Install is one n8n release installed by tools/n8n/install.sh.
type Install struct {
	// Version is the release, as `n8n --version` prints it.
	Version string
	// Dir is the install's directory (package.json, node_modules).
	Dir string
	// nodeDir is the directory of the node binary that runs this
	// release; empty for the machine's node.
	nodeDir string
}

// Major returns the release's major version.
func (in *Install) Major() int {
	n, _ := strconv.Atoi(strings.SplitN(in.Version, ".", 2)[0])
	return n
}

// Bin returns the path of n8n's executable script (it runs `node` from
// PATH: use [Install.Environ] or [Node.Environ]).
func (in *Install) Bin() string {
	return filepath.Join(in.Dir, "node_modules", "n8n", "bin", "n8n")
}

// path returns PATH with this release's node first.
func (in *Install) path() string {
	if in.nodeDir == "" {
		return os.Getenv("PATH")
	}
	return in.nodeDir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// V1 returns the n8n 1.x install (1.123), or skips the test (fails it
// under CI=true) when there is none.
func V1(t testing.TB) *Install { t.Helper(); return find(t, 1, EnvV1) }

// V2 returns the n8n 2.x install (2.40), or skips the test (fails it
// under CI=true) when there is none.
func V2(t testing.TB) *Install { t.Helper(); return find(t, 2, EnvV2) }

func find(t testing.TB, major int, env string) *Install {
	t.Helper()
	if testing.Short() {
		t.Skip("n8nreal: -short: the real n8n is not run")
	}
	in, err := Find(major, os.Getenv(env))
	if err == nil {
		return in
	}
	msg := fmt.Sprintf("n8nreal: no n8n %d.x install (%v); run `make n8n` or set %s", major, err, env)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s (CI is set: tests with the real n8n must not be skipped)", msg)
	}
	t.Skip(msg)
	return nil
}

// CacheDir returns the directory `make n8n` installs into:
// ${XDG_CACHE_HOME:-$HOME/.cache}/n8n-secrets.
func CacheDir() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		base = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	return filepath.Join(base, "n8n-secrets")
}

// Find returns the install in dir, or, when dir is empty, the newest
// complete n8n <major>.x install in [CacheDir]. An install is complete
// when install.sh wrote its .installed stamp.
func Find(major int, dir string) (*Install, error) {
	if dir == "" {
		matches, _ := filepath.Glob(filepath.Join(CacheDir(), fmt.Sprintf("n8n-%d.*", major)))
		sort.Slice(matches, func(i, j int) bool { return versionLess(matches[j], matches[i]) })
		for _, m := range matches {
			if in, err := load(m); err == nil && in.Major() == major {
				return in, nil
			}
		}
		return nil, fmt.Errorf("none in %s", CacheDir())
	}
	in, err := load(dir)
	if err != nil {
		return nil, err
	}
	if in.Major() != major {
		return nil, fmt.Errorf("%s holds n8n %s, not %d.x", dir, in.Version, major)
	}
	return in, nil
}

// load reads an install's stamp: "n8n@VERSION" and, when it brings its
// own node, " node@VERSION".
func load(dir string) (*Install, error) {
	b, err := os.ReadFile(filepath.Join(dir, ".installed"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a complete install: %w", dir, err)
	}
	in := &Install{Dir: dir}
	for _, f := range strings.Fields(string(b)) {
		name, version, _ := strings.Cut(f, "@")
		switch name {
		case "n8n":
			in.Version = version
		case "node":
			in.nodeDir = filepath.Join(dir, "node", "bin")
		}
	}
	if in.Version == "" {
		return nil, fmt.Errorf("%s: .installed names no n8n version", dir)
	}
	if _, err := os.Stat(in.Bin()); err != nil {
		return nil, err
	}
	return in, nil
}

// versionLess orders install directories n8n-A.B.C by version.
func versionLess(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(filepath.Base(a), "n8n-"), ".")
	pb := strings.Split(strings.TrimPrefix(filepath.Base(b), "n8n-"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// Node is one n8n node (a main, a worker, a CLI run): an install, a user
// folder of its own and the environment the test gives it.
type Node struct {
	Install *Install
	// UserFolder is N8N_USER_FOLDER (and HOME); n8n keeps its settings
	// file and its SQLite database in UserFolder/.n8n.
	UserFolder string
	// Env is n8n's environment besides the defaults: the key, the
	// database settings, anything the test sets. Later entries win.
	Env []string

	t testing.TB
}

// NewNode returns a node of install in with a fresh user folder and env.
func NewNode(t testing.TB, in *Install, env ...string) *Node {
	t.Helper()
	dir := t.TempDir()
	return &Node{Install: in, UserFolder: dir, Env: env, t: t}
}

// DataDir returns UserFolder/.n8n, where n8n keeps its settings file
// (config) and its SQLite database (database.sqlite).
func (n *Node) DataDir() string { return filepath.Join(n.UserFolder, ".n8n") }

// SQLitePath returns the path of the node's default SQLite database.
func (n *Node) SQLitePath() string { return filepath.Join(n.DataDir(), "database.sqlite") }

// Environ returns the base environment of an n8n process of this release
// with the user folder userFolder: PATH (with the install's node first),
// HOME and N8N_USER_FOLDER, and the defaults of the package doc. The key
// and the database settings are the caller's to add.
func (in *Install) Environ(userFolder string) []string {
	env := []string{"PATH=" + in.path(), "HOME=" + userFolder, "N8N_USER_FOLDER=" + userFolder,
		"TZ=UTC", "LANG=C.UTF-8"}
	env = append(env, baseEnv...)
	if in.Major() < 2 {
		env = append(env, "N8N_RUNNERS_ENABLED=false")
	}
	return env
}

// Environ returns the whole environment of an n8n process of this node:
// its install's Environ, then Env.
func (n *Node) Environ() []string {
	return append(n.Install.Environ(n.UserFolder), n.Env...)
}

// Command returns a command running `n8n ARGS…` with the node's
// environment, in its own process group, killed if the test process dies.
func (n *Node) Command(ctx context.Context, args ...string) *exec.Cmd {
	return n.command(ctx, append([]string{n.Install.Bin()}, args...))
}

func (n *Node) command(ctx context.Context, argv []string) *exec.Cmd {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Env = n.Environ()
	c.Dir = n.UserFolder
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
	return c
}

// Run runs `n8n ARGS…` to its end and returns what it printed (stdout and
// stderr). The error is n8n's exit status, or a timeout.
func (n *Node) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := n.Command(ctx, args...).CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("n8nreal: n8n %s: timed out after %v", strings.Join(args, " "), CommandTimeout)
	}
	if err != nil {
		return string(out), fmt.Errorf("n8nreal: n8n %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Credential is one credential as n8n's import:credentials reads it and
// export:credentials --decrypted writes it.
type Credential struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// ImportCredentials has n8n import creds (n8n encrypts them with its key
// and runs the database's migrations first when needed). The output is
// returned with the error, for the test to show; it holds no plaintext.
func (n *Node) ImportCredentials(creds []Credential) (string, error) {
	f := filepath.Join(n.t.TempDir(), "credentials.json")
	b, err := json.Marshal(creds)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(f, b, 0o600); err != nil {
		return "", err
	}
	return n.Run("import:credentials", "--input="+f)
}

// ExportCredentials has n8n decrypt and export every credential
// (export:credentials --all --decrypted), sorted by id. n8n fails when its
// key does not decrypt them. The output is returned with the error: it may
// name n8n's error, never a plaintext (n8n writes those to the file only).
func (n *Node) ExportCredentials() ([]Credential, string, error) {
	f := filepath.Join(n.t.TempDir(), "export.json")
	out, err := n.Run("export:credentials", "--all", "--decrypted", "--output="+f)
	if err != nil {
		return nil, out, err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, out, fmt.Errorf("n8nreal: export:credentials wrote no file: %w", err)
	}
	var creds []Credential
	if err := json.Unmarshal(b, &creds); err != nil {
		return nil, out, fmt.Errorf("n8nreal: export:credentials wrote no JSON array: %w", err)
	}
	sort.Slice(creds, func(i, j int) bool { return creds[i].ID < creds[j].ID })
	return creds, out, nil
}

// Process is a running n8n server.
type Process struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string
	// Started is when the process was started, Healthy when its readiness
	// check first answered 200.
	Started, Healthy time.Time

	cmd     *exec.Cmd
	out     *syncbuf.Buffer
	exited  chan struct{}
	waitErr error
	stop    sync.Once
}

// StartError is a start that ended before n8n was healthy.
type StartError struct {
	// Code is the exit code (-1: killed by a signal or the timeout).
	Code   int
	Output string
	Reason string
}

func (e *StartError) Error() string {
	return fmt.Sprintf("n8nreal: n8n start: %s (exit %d)", e.Reason, e.Code)
}

// Start runs `n8n start` on free loopback ports and returns once
// GET /healthz/readiness answers 200 (the database is connected and
// migrated). With prefix, the command is prefix followed by n8n's
// executable and "start": prefix is e.g. the n8n-secrets binary and "--",
// which then execs n8n with the node's environment (as a container's
// entrypoint does). Every error is a *StartError: a process that could not
// start, exited first, or was not healthy within StartTimeout. Stop is
// registered with t.Cleanup.
func (n *Node) Start(prefix ...string) (*Process, error) {
	n.t.Helper()
	port, broker := freePort(n.t), freePort(n.t)
	argv := append(append([]string{}, prefix...), n.Install.Bin(), "start")
	c := n.command(context.Background(), argv)
	c.Env = append(c.Env, "N8N_PORT="+strconv.Itoa(port), "N8N_RUNNERS_BROKER_PORT="+strconv.Itoa(broker))
	p := &Process{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: c, out: &syncbuf.Buffer{}, exited: make(chan struct{})}
	c.Stdout, c.Stderr = p.out, p.out
	p.Started = time.Now()
	if err := c.Start(); err != nil {
		return nil, &StartError{Code: -1, Reason: err.Error()}
	}
	go func() {
		p.waitErr = c.Wait()
		close(p.exited)
	}()
	n.t.Cleanup(func() { _ = p.Stop() })

	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.exited:
			return nil, &StartError{Code: c.ProcessState.ExitCode(), Output: p.Output(), Reason: "exited before it was healthy"}
		default:
		}
		if resp, err := client.Get(p.URL + "/healthz/readiness"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Healthy = time.Now()
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			_ = p.Stop()
			return nil, &StartError{Code: -1, Output: p.Output(), Reason: fmt.Sprintf("not healthy after %v", StartTimeout)}
		}
		select {
		case <-p.exited:
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Output returns what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Stop sends SIGTERM (n8n shuts down gracefully) and waits for the
// process; after StopTimeout it kills the process group. It returns an
// error when n8n did not exit by itself, and is safe to call more than
// once.
func (p *Process) Stop() error {
	var err error
	p.stop.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(StopTimeout):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
			err = fmt.Errorf("n8nreal: n8n ignored SIGTERM for %v and was killed", StopTimeout)
		}
		// The task runners and other children n8n started, if any
		// outlived it.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	})
	return err
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Login posts to /rest/login as n8n's editor does, with an MFA code when
// mfaCode is not empty, and returns the HTTP status and n8n's error code
// (998 is "MFA Error": a code is missing or wrong).
func (p *Process) Login(email, password, mfaCode string) (status, code int, err error) {
	body := map[string]string{"emailOrLdapLoginId": email, "password": password}
	if mfaCode != "" {
		body["mfaCode"] = mfaCode
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, p.URL+"/rest/login", bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	// The n8n-auth token binds a hash of this header (README of the test
	// data).
	req.Header.Set("browser-id", browserID)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var e struct {
		Code int `json:"code"`
	}
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(rb, &e)
	return resp.StatusCode, e.Code, nil
}

// browserID is the browser-id header of every request: the n8n-auth token
// binds a hash of it.
const browserID = "00000000-0000-4000-8000-00000000f1c5"

// LoginCookie logs in as [Process.Login] does and returns the n8n-auth
// session cookie n8n issued ("" when it issued none) with the status. The
// cookie is a session: tests keep it out of their messages.
func (p *Process) LoginCookie(email, password, mfaCode string) (cookie string, status int, err error) {
	body := map[string]string{"emailOrLdapLoginId": email, "password": password}
	if mfaCode != "" {
		body["mfaCode"] = mfaCode
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, p.URL+"/rest/login", bytes.NewReader(b))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("browser-id", browserID)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	for _, c := range resp.Cookies() {
		if c.Name == "n8n-auth" {
			return c.Value, resp.StatusCode, nil
		}
	}
	return "", resp.StatusCode, nil
}

// Session asks n8n who is logged in with the n8n-auth cookie (GET
// /rest/login, as n8n's editor does on load) and returns the status: 200
// while the session is valid, 401 once n8n refuses it.
func (p *Process) Session(cookie string) (status int, err error) {
	req, err := http.NewRequest(http.MethodGet, p.URL+"/rest/login", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("browser-id", browserID)
	req.AddCookie(&http.Cookie{Name: "n8n-auth", Value: cookie})
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("n8nreal: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// IsStartError reports whether err is a *StartError, and returns it.
func IsStartError(err error) (*StartError, bool) {
	var se *StartError
	ok := errors.As(err, &se)
	return se, ok
}

// OutputOf returns what n8n printed before a failed start (err from
// [Node.Start]), or "".
func OutputOf(err error) string {
	if se, ok := IsStartError(err); ok {
		return se.Output
	}
	return ""
}
