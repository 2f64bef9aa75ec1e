package examples

// Container rehearsals without a container engine: the binary is built
// and run directly with the environment each n8n service of an example
// would get (parsed from its file), against a real Vault (vaulttest) or
// planted secret files. The command it execs is a shell script standing in
// for n8n's /docker-entrypoint.sh, which records its argv and environment.
// Secret values are compared, never printed: failures name variables and
// lengths only.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/providers"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	if os.Getenv("FAKE_PLATFORM") != "" {
		os.Exit(fakeMain()) // the docker or kubectl stand-in (platform_test.go)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// n8nSecrets builds the binary once, as the Makefile does, into a
// temporary directory.
func n8nSecrets(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "n8n-secrets-examples-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "n8n-secrets")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=examples", "-o", binPath, ".")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building n8n-secrets: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// secrets holds the secret values of one rehearsal, to make sure no
// output holds one.
type secrets struct {
	t      *testing.T
	values []string
}

func (s *secrets) add(vs ...string) {
	for _, v := range vs {
		if len(v) < 8 {
			s.t.Fatalf("secret #%d is too short to be searched for in outputs", len(s.values))
		}
		s.values = append(s.values, v)
	}
}

// assertAbsent fails if out holds a secret, naming its index only.
func (s *secrets) assertAbsent(what, out string) {
	s.t.Helper()
	for i, v := range s.values {
		if strings.Contains(out, v) {
			s.t.Errorf("%s holds secret value #%d", what, i)
		}
	}
}

// show returns out for a failure message, or a placeholder if it holds a
// secret (which assertAbsent reports).
func (s *secrets) show(out string) string {
	for _, v := range s.values {
		if strings.Contains(out, v) {
			return "(output withheld: it holds a secret value)"
		}
	}
	return out
}

// sandbox maps the volumes of a deployment file to temporary directories.
type sandbox struct {
	t       *testing.T
	fileDir string            // bind mounts are relative to it
	volumes map[string]string // named volume → directory
}

func newSandbox(t *testing.T, fileDir string) *sandbox {
	return &sandbox{t: t, fileDir: fileDir, volumes: map[string]string{}}
}

func (sb *sandbox) volume(name string) string {
	if d, ok := sb.volumes[name]; ok {
		return d
	}
	d := filepath.Join(sb.t.TempDir(), name)
	if err := os.Mkdir(d, 0o700); err != nil {
		sb.t.Fatal(err)
	}
	sb.volumes[name] = d
	return d
}

// hostPath maps a path in a container with the given mounts (target →
// source: a named volume, or a bind path) to the sandbox.
func (sb *sandbox) hostPath(mounts map[string]string, p string) (string, bool) {
	best := ""
	for target := range mounts {
		if (p == target || strings.HasPrefix(p, target+"/")) && len(target) > len(best) {
			best = target
		}
	}
	if best == "" {
		return "", false
	}
	src := mounts[best]
	base := ""
	if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
		base = filepath.Join(sb.fileDir, src)
	} else {
		base = sb.volume(src)
	}
	return filepath.Join(base, strings.TrimPrefix(p, best)), true
}

// rewrite maps every environment value that is a path on a mount.
func (sb *sandbox) rewrite(env map[string]string, mounts map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if h, ok := sb.hostPath(mounts, v); ok && strings.HasPrefix(v, "/") {
			v = h
		}
		out[k] = v
	}
	return out
}

// entrypointArgs returns the arguments the image's ENTRYPOINT gives
// n8n-secrets (after its path), from the Dockerfile.
func entrypointArgs(t *testing.T) []string {
	t.Helper()
	df := parseDockerfile(t, dockerfilePath)
	final := df.stages[len(df.stages)-1]
	eps := final.all("ENTRYPOINT")
	if len(eps) == 0 {
		t.Fatal("Dockerfile: no ENTRYPOINT")
	}
	ep := jsonArgs(t, eps[len(eps)-1])
	i := slices.Index(ep, "/usr/local/bin/n8n-secrets")
	if i < 0 {
		t.Fatalf("Dockerfile: ENTRYPOINT %q does not run /usr/local/bin/n8n-secrets", ep)
	}
	return ep[i+1:]
}

// roleRun is the outcome of one start of n8n-secrets as a container would
// run it.
type roleRun struct {
	code           int
	stdout, stderr string
	childArgv      []string          // nil: the stand-in did not run
	childEnv       map[string]string // as the stand-in saw it
	events         []map[string]any
}

// runAsContainer runs n8n-secrets with env (plus PATH and a HOME of its
// own) and the ENTRYPOINT's arguments followed by command, with
// /docker-entrypoint.sh replaced by a stand-in script of the same name.
func runAsContainer(t *testing.T, env map[string]string, command []string) roleRun {
	t.Helper()
	dir, standIn := standInEntrypoint(t)
	var args []string
	for _, a := range entrypointArgs(t) {
		if a == "/docker-entrypoint.sh" {
			a = standIn
		}
		args = append(args, a)
	}
	args = append(args, command...)
	return runBinary(t, env, dir, args...)
}

// standInEntrypoint writes a stand-in for n8n's /docker-entrypoint.sh
// that records its argv and environment in dir.
func standInEntrypoint(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "docker-entrypoint.sh")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\0' \"$0\" \"$@\" > '%s/argv'\nenv -0 > '%s/env'\n", dir, dir)
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// runK8sContainer runs n8n-secrets with env as the n8n container of a
// Kubernetes example runs it: its command after the installed copy of
// n8n-secrets (tini, which only runs it, left out), then its args, with
// n8n's /docker-entrypoint.sh replaced by a stand-in, as runAsContainer.
func runK8sContainer(t *testing.T, env map[string]string, c k8sContainer) roleRun {
	t.Helper()
	i := slices.Index(c.command, installedPath)
	if i < 0 {
		t.Fatalf("%s: command %q does not run %s", c.deployment, c.command, installedPath)
	}
	dir, standIn := standInEntrypoint(t)
	var args []string
	for _, a := range append(slices.Clone(c.command[i+1:]), c.args...) {
		if a == "/docker-entrypoint.sh" {
			a = standIn
		}
		args = append(args, a)
	}
	return runBinary(t, env, dir, args...)
}

// runBinary runs n8n-secrets with env and args; dir is where a stand-in
// wrote argv and env, if any.
func runBinary(t *testing.T, env map[string]string, dir string, args ...string) roleRun {
	t.Helper()
	cmd := exec.Command(n8nSecrets(t), args...)
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	_ = cmd.Run()
	r := roleRun{code: cmd.ProcessState.ExitCode(), stdout: so.String(), stderr: se.String()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.code = 128 + int(ws.Signal())
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil {
			r.events = append(r.events, ev)
		}
	}
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "argv")); err == nil {
			r.childArgv = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
			r.childEnv = map[string]string{}
			eb, err := os.ReadFile(filepath.Join(dir, "env"))
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range strings.Split(strings.TrimSuffix(string(eb), "\x00"), "\x00") {
				k, v, _ := strings.Cut(kv, "=")
				r.childEnv[k] = v
			}
		}
	}
	return r
}

// event returns the first log event with the given msg.
func (r roleRun) event(msg string) map[string]any {
	for _, ev := range r.events {
		if ev["msg"] == msg {
			return ev
		}
	}
	return nil
}

// codes lists the error codes the run logged (names, never values).
func (r roleRun) codes() []string {
	var out []string
	for _, ev := range r.events {
		if c, ok := ev["code"].(string); ok && ev["level"] == "ERROR" {
			out = append(out, fmt.Sprintf("%s(%v)", c, ev["var"]))
		}
	}
	return out
}

// checkRole asserts what a started role must show: exit 0, the command's
// argv passed through, every reference (and NAME_FILE) of env replaced by
// its expected value, no VAULT_* or N8N_SECRETS_* left, no secret in the
// output. It returns the key fingerprint the role logged.
func checkRole(t *testing.T, role string, env map[string]string, command []string, r roleRun, expect func(name, value string) (string, bool), sec *secrets) string {
	t.Helper()
	sec.assertAbsent(role+": stdout", r.stdout)
	sec.assertAbsent(role+": stderr", r.stderr)
	if r.code != 0 || r.childArgv == nil {
		t.Fatalf("%s: exit %d, command ran: %v, errors logged: %v", role, r.code, r.childArgv != nil, r.codes())
	}
	if got := r.childArgv[1:]; !slices.Equal(got, command) && !(len(got) == 0 && len(command) == 0) {
		t.Errorf("%s: the command got argv %q, want %q", role, got, command)
	}
	if filepath.Base(r.childArgv[0]) != "docker-entrypoint.sh" {
		t.Errorf("%s: exec'd %s, want the image's docker-entrypoint.sh", role, r.childArgv[0])
	}
	resolved := 0
	for name, value := range env {
		target := name
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && strings.HasPrefix(value, "/") && !strings.HasPrefix(name, "VAULT_") {
			target = base
			if _, left := r.childEnv[name]; left {
				t.Errorf("%s: %s reached n8n: NAME_FILE must be replaced by NAME", role, name)
			}
		} else if !providers.Stores.IsReference(value) {
			continue
		}
		want, ok := expect(target, value)
		if !ok {
			t.Errorf("%s: no expected value for %s", role, target)
			continue
		}
		resolved++
		got, present := r.childEnv[target]
		switch {
		case !present:
			t.Errorf("%s: %s missing in n8n's environment", role, target)
		case got != want:
			t.Errorf("%s: %s has a value of %d bytes, not the stored one (%d bytes)", role, target, len(got), len(want))
		}
	}
	if resolved < 3 {
		t.Errorf("%s: only %d references resolved: want the key and both passwords", role, resolved)
	}
	for k := range r.childEnv {
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "N8N_SECRETS_") {
			t.Errorf("%s: %s reached n8n", role, k)
		}
	}
	if r.childEnv["N8N_BLOCK_ENV_ACCESS_IN_NODE"] != "true" {
		t.Errorf("%s: N8N_BLOCK_ENV_ACCESS_IN_NODE is not true in n8n's environment", role)
	}
	ev := r.event("exec")
	if ev == nil {
		t.Fatalf("%s: no exec event logged", role)
	}
	fp, _ := ev["n8n_key_fingerprint"].(string)
	if len(fp) != n8n.FingerprintLen {
		t.Errorf("%s: exec event has fingerprint %q", role, fp)
	}
	wantRole := "start"
	for _, w := range []string{"worker", "webhook"} {
		if slices.Contains(command, w) {
			wantRole = w
		}
	}
	if ev["n8n_role"] != wantRole {
		t.Errorf("%s: the guard saw role %v, want %s", role, ev["n8n_role"], wantRole)
	}
	return fp
}

// kvReader reads KV v2 secrets from a vaulttest server as root.
type kvReader struct {
	t   *testing.T
	srv *vaulttest.Server
}

// data returns the data of a KV v2 secret (mount "secret").
func (kv kvReader) data(path string) map[string]any {
	kv.t.Helper()
	mount, rest, _ := strings.Cut(path, "/")
	s, err := kv.srv.Client().KVv2(mount).Get(context.Background(), rest)
	if err != nil {
		kv.t.Fatalf("reading %s: %v", path, err)
	}
	return s.Data
}

// resolve returns the value a vault:// reference names, read as root.
func (kv kvReader) resolve(value string) (string, bool) {
	ref, err := providers.Stores.Parse(value)
	if err != nil || ref.Scheme != "vault" || ref.Selector == "" || ref.IsPointer() {
		return "", false
	}
	v, ok := kv.data(ref.Path())[ref.Selector].(string)
	return v, ok
}

// loginTokensLeft returns how many tokens created by a login at
// auth/<mount>/login still exist.
func loginTokensLeft(t *testing.T, srv *vaulttest.Server, mount string) int {
	t.Helper()
	c := srv.Client()
	sec, err := c.Logical().List("auth/token/accessors")
	if err != nil || sec == nil {
		t.Fatalf("listing token accessors: %v", err)
	}
	keys, _ := sec.Data["keys"].([]any)
	n := 0
	for _, k := range keys {
		info, err := c.Auth().Token().LookupAccessor(str(k))
		if err != nil {
			continue // expired or revoked meanwhile
		}
		if p := str(info.Data["path"]); strings.HasPrefix(p, "auth/"+mount+"/login") {
			n++
		}
	}
	return n
}

// runScript runs a shell script with exactly env (plus PATH and HOME).
func runScript(t *testing.T, script string, env map[string]string, stdin string, args ...string) (code int, out string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{script}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdin = strings.NewReader(stdin)
	b, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(b)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runVaultInit runs the compose file's vault-init service for real (sh +
// curl against srv) in the sandbox, and returns its script, its
// environment (mapped onto the sandbox) and its output.
func runVaultInit(t *testing.T, srv *vaulttest.Server, svcs map[string]service, sb *sandbox, sec *secrets) (script string, env map[string]string, out string) {
	t.Helper()
	initSvc, ok := svcs["vault-init"]
	if !ok {
		t.Fatal("compose: no vault-init service")
	}
	ep := strList(initSvc.raw["entrypoint"])
	if len(ep) != 2 || ep[0] != "/bin/sh" {
		t.Fatalf("compose: vault-init entrypoint %q, want [/bin/sh <script>]", ep)
	}
	script, ok = sb.hostPath(initSvc.mounts(), ep[1])
	if !ok {
		t.Fatalf("compose: vault-init runs %s, which none of its volumes provides", ep[1])
	}
	env = sb.rewrite(initSvc.env(nil), initSvc.mounts())
	if !strings.HasPrefix(initSvc.env(nil)["VAULT_ADDR"], "http://vault:") {
		t.Errorf("compose: vault-init has VAULT_ADDR %s", initSvc.env(nil)["VAULT_ADDR"])
	}
	env["VAULT_ADDR"] = srv.Addr
	env["VAULT_TOKEN"] = srv.RootToken
	delete(env, "CREDS_OWNER") // chown needs root; the files' owner is not what is tested
	code, out := runScript(t, script, env, "")
	if code != 0 {
		t.Fatalf("vault-init.sh: exit %d:\n%s", code, sec.show(out)) // secrets seeded so far are unknown here; the script prints none
	}
	return script, env, out
}

// TestComposeRehearsal runs the compose example for real, minus the
// containers: vault-init.sh against a real Vault, then each n8n service's
// environment through the binary, then a password rotation with the
// rotation scripts.
func TestComposeRehearsal(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the compose init script")
	}
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	// vault-init mounts KV v2 at secret/ on a new Vault; here it finds the
	// mount in place, as on a second run.
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	svcs := services(t, composeFile)
	sb := newSandbox(t, filepath.Dir(composeFile))
	sec := &secrets{t: t}
	sec.add(srv.RootToken)

	// 1. The init service, for real: sh + curl against Vault.
	script, initEnv, out := runVaultInit(t, srv, svcs, sb, sec)

	core, db, redis := kv.data("secret/n8n/core"), kv.data("secret/n8n/db"), kv.data("secret/n8n/redis")
	key, dbPassword, redisPassword := str(core["encryption_key"]), str(db["password"]), str(redis["password"])
	roleIDFile, secretIDFile := filepath.Join(initEnv["OUT_DIR"], "vault_role_id"), filepath.Join(initEnv["OUT_DIR"], "vault_secret_id")
	roleID, secretID := readFile(t, roleIDFile), readFile(t, secretIDFile)
	sec.add(key, dbPassword, redisPassword, secretID, roleID)
	sec.assertAbsent("vault-init.sh output", out)
	if len(key) != 44 || len(dbPassword) < 24 || len(redisPassword) < 24 || dbPassword == redisPassword {
		t.Errorf("seeded values: key %d bytes, passwords %d and %d bytes, equal: %v", len(key), len(dbPassword), len(redisPassword), dbPassword == redisPassword)
	}
	rid, err := srv.Client().Logical().Read("auth/approle/role/n8n/role-id")
	if err != nil || str(rid.Data["role_id"]) != roleID {
		t.Errorf("vault_role_id is not the role id of auth/approle/role/n8n (%v)", err)
	}
	for _, f := range []string{roleIDFile, secretIDFile} {
		if st, err := os.Stat(f); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o400 {
			t.Errorf("%s: mode %v, want 0400", filepath.Base(f), st.Mode().Perm())
		}
	}
	policy, err := srv.Client().Sys().GetPolicy("n8n-read")
	if err != nil || !regexp.MustCompile(`(?s)^[^{]*path "secret/data/n8n/\*" \{\s*capabilities = \["read"\]\s*\}\s*$`).MatchString(policy) {
		t.Errorf("policy n8n-read is not read on secret/data/n8n/* alone (%v)", err)
	}

	// 2. Postgres and Redis read the passwords Vault has.
	pg := svcs["postgres"]
	pgFile, ok := sb.hostPath(pg.mounts(), pg.env(nil)["POSTGRES_PASSWORD_FILE"])
	if !ok {
		t.Fatal("compose: postgres' POSTGRES_PASSWORD_FILE is on none of its volumes")
	}
	if readFile(t, pgFile) != dbPassword {
		t.Error("postgres' password file does not hold secret/n8n/db#password")
	}
	rd := svcs["redis"]
	rep := strList(rd.raw["entrypoint"])
	redisScript, ok := sb.hostPath(rd.mounts(), rep[len(rep)-1])
	if !ok {
		t.Fatalf("compose: redis runs %q, which none of its volumes provides", rep)
	}
	redisFile, ok := sb.hostPath(rd.mounts(), "/run/secrets/redis_password")
	if !ok || readFile(t, redisFile) != redisPassword {
		t.Error("redis' /run/secrets/redis_password does not hold secret/n8n/redis#password")
	}
	// redis-start.sh, with a stand-in for the redis image's entrypoint:
	// the password must reach redis-server on stdin, not in argv.
	fake := t.TempDir()
	rec := t.TempDir()
	stub := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s/argv'\ncat > '%s/stdin'\n", rec, rec)
	if err := os.WriteFile(filepath.Join(fake, "docker-entrypoint.sh"), []byte(stub), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", redisScript)
	cmd.Env = []string{"PATH=" + fake + ":" + os.Getenv("PATH"), "REDIS_PASSWORD_FILE=" + redisFile}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redis-start.sh: %v\n%s", err, sec.show(string(b)))
	}
	if argv := readFile(t, filepath.Join(rec, "argv")); argv != "redis-server\n-\n" {
		t.Errorf("redis-start.sh ran docker-entrypoint.sh with %d bytes of arguments, want redis-server -", len(argv))
	}
	if readFile(t, filepath.Join(rec, "stdin")) != "requirepass "+redisPassword+"\n" {
		t.Error("redis-start.sh did not give redis-server requirepass <the password> on stdin")
	}

	// 3. Each n8n role, with its service's environment.
	fingerprints, logs := map[string]string{}, map[string]string{}
	roleEnv := func(name string, vars map[string]string) map[string]string {
		s := svcs[name]
		env := sb.rewrite(s.env(vars), s.mounts())
		if _, ok := env["VAULT_TOKEN"]; ok {
			t.Fatalf("compose: %s sets VAULT_TOKEN: the n8n services log in with AppRole", name)
		}
		if s.env(vars)["N8N_SECRETS_DIR"] == env["N8N_SECRETS_DIR"] {
			t.Fatalf("compose: %s: N8N_SECRETS_DIR is on none of its volumes", name)
		}
		env["VAULT_ADDR"] = srv.Addr
		return env
	}
	expectVault := func(_, value string) (string, bool) { return kv.resolve(value) }
	for _, name := range n8nServices {
		env := roleEnv(name, nil)
		if readFile(t, filepath.Join(env["N8N_SECRETS_DIR"], "vault_secret_id")) != secretID {
			t.Errorf("compose: %s's secrets dir is not the volume vault-init writes the AppRole files to", name)
		}
		r := runAsContainer(t, env, svcs[name].command())
		fingerprints[name] = checkRole(t, name, svcs[name].env(nil), svcs[name].command(), r, expectVault, sec)
		logs[name] = r.stderr
	}
	want := n8n.Fingerprint(key)
	for name, fp := range fingerprints {
		if fp != want {
			t.Errorf("%s logged key fingerprint %s, want %s (the seeded key's)", name, fp, want)
		}
	}
	if n := loginTokensLeft(t, srv, "approle"); n != 0 {
		t.Errorf("%d AppRole login tokens left: n8n-secrets must revoke its token before exec", n)
	}

	// 4. What examples/rotate/verify.sh runs in a container: check and
	// fingerprint, with the container's own settings.
	workerEnv := roleEnv("n8n-worker", nil)
	r := runBinary(t, workerEnv, "", "check", "--json", "--role", "worker")
	sec.assertAbsent("check output", r.stdout+r.stderr)
	var report struct {
		OK  bool `json:"ok"`
		N8N struct {
			Role        string `json:"role"`
			Fingerprint string `json:"fingerprint"`
		} `json:"n8n"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || r.code != 0 || !report.OK || report.N8N.Fingerprint != want || report.N8N.Role != "worker" {
		t.Errorf("check --role worker: exit %d, ok %v, role %q, fingerprint %q (want %s), errors %v", r.code, report.OK, report.N8N.Role, report.N8N.Fingerprint, want, r.codes())
	}
	r = runBinary(t, workerEnv, "", "fingerprint")
	sec.assertAbsent("fingerprint output", r.stdout+r.stderr)
	if r.code != 0 || strings.TrimSpace(r.stdout) != want {
		t.Errorf("fingerprint: exit %d, printed %q, want %s", r.code, strings.TrimSpace(r.stdout), want)
	}

	// verify.sh itself, with a stand-in docker client: container logs are
	// the runs' logs, `docker compose exec` runs the binary with the
	// service's environment.
	verify := func(logs map[string]string, expect string) (int, string) {
		fake := t.TempDir()
		docker := "#!/bin/sh\nd='" + fake + "'\n" + `if [ "$1" = compose ]; then shift 3; fi
case $1 in
ps) cat "$d/$3.ids" ;;
logs) cat "$d/$2.log" ;;
exec) svc=$3; shift 4; exec "$d/$svc.run" "$@" ;;
*) echo "fake docker: unexpected $*" >&2; exit 2 ;;
esac
`
		files := map[string]string{"docker": docker}
		for _, name := range n8nServices {
			ids := name + "-1\n"
			if name == "n8n-worker" {
				ids += name + "-2\n"
			}
			files[name+".ids"] = ids
			for _, id := range strings.Fields(ids) {
				files[id+".log"] = logs[name] + "n8n's own log lines\n"
			}
			run := "#!/bin/sh\nexec env -i 'PATH=" + os.Getenv("PATH") + "' 'HOME=" + t.TempDir() + "'"
			env := roleEnv(name, nil)
			for _, k := range sortedKeys(env) {
				run += " '" + k + "=" + env[k] + "'"
			}
			files[name+".run"] = run + " '" + n8nSecrets(t) + "' \"$@\"\n"
		}
		for f, content := range files {
			if err := os.WriteFile(filepath.Join(fake, f), []byte(content), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("sh", filepath.Join("..", "rotate", "verify.sh"), "compose", "compose.yaml")
		cmd.Dir = filepath.Dir(composeFile)
		cmd.Env = []string{"PATH=" + fake + ":" + os.Getenv("PATH"), "EXPECT_FINGERPRINT=" + expect}
		out, _ := cmd.CombinedOutput()
		sec.assertAbsent("verify.sh output", string(out))
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := verify(logs, want); code != 0 || !strings.Contains(out, "ok: every node runs with key fingerprint "+want) {
		t.Errorf("verify.sh compose: exit %d:\n%s", code, sec.show(out))
	}
	if code, out := verify(logs, n8n.Fingerprint("another key")); code != 1 || !strings.Contains(out, "EXPECT_FINGERPRINT is") {
		t.Errorf("verify.sh compose with another expected fingerprint: exit %d, want 1:\n%s", code, sec.show(out))
	}
	odd := map[string]string{}
	for k, v := range logs {
		odd[k] = v
	}
	odd["n8n-webhook"] = strings.ReplaceAll(odd["n8n-webhook"], want, n8n.Fingerprint("another key"))
	if code, out := verify(odd, ""); code != 1 || !strings.Contains(out, "FAIL: n8n-webhook") {
		t.Errorf("verify.sh compose with a node on another key: exit %d, want 1:\n%s", code, sec.show(out))
	}

	// 5. N8N_KEY_FINGERPRINT (.env) pins the key on every node.
	r = runAsContainer(t, roleEnv("n8n-webhook", map[string]string{"N8N_KEY_FINGERPRINT": want}), svcs["n8n-webhook"].command())
	if r.code != 0 {
		t.Errorf("webhook with its own fingerprint expected: exit %d, errors %v", r.code, r.codes())
	}
	other := n8n.Fingerprint(key + "x")
	r = runAsContainer(t, roleEnv("n8n-webhook", map[string]string{"N8N_KEY_FINGERPRINT": other}), svcs["n8n-webhook"].command())
	sec.assertAbsent("webhook stderr", r.stderr)
	if r.code != 78 || r.childArgv != nil {
		t.Errorf("webhook expecting another key: exit %d (want 78), command ran: %v", r.code, r.childArgv != nil)
	}

	// 6. Rotation of the Postgres password, with the rotation scripts: a
	// new version in Vault, vault-init refreshes Postgres' file and the
	// secret id, a restarted worker gets the new value and the same key.
	newPassword := "rotated-" + strings.Repeat("x", 8) + "-" + fmt.Sprint(len(dbPassword))
	sec.add(newPassword)
	code, out := runScript(t, filepath.Join("rotate", "vault-kv-patch.sh"),
		map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken}, newPassword+"\n", "secret/n8n/db", "password")
	sec.assertAbsent("vault-kv-patch.sh output", out)
	if code != 0 || !strings.Contains(out, "version 2") {
		t.Fatalf("vault-kv-patch.sh: exit %d: %s", code, sec.show(out))
	}
	if got := kv.data("secret/n8n/db")["password"]; got != newPassword {
		t.Fatal("secret/n8n/db#password is not the new value after vault-kv-patch.sh")
	}
	code, out = runScript(t, script, initEnv, "")
	sec.assertAbsent("vault-init.sh output (second run)", out)
	if code != 0 {
		t.Fatalf("vault-init.sh, second run: exit %d", code)
	}
	if readFile(t, pgFile) != newPassword {
		t.Error("after rotation, postgres' password file does not hold the new password")
	}
	if str(kv.data("secret/n8n/core")["encryption_key"]) != key {
		t.Error("a second vault-init run changed the encryption key")
	}
	newSecretID := readFile(t, secretIDFile)
	sec.add(newSecretID)
	if newSecretID == secretID {
		t.Error("a second vault-init run kept the AppRole secret id")
	}
	if _, err := srv.Client().Logical().Write("auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID}); err == nil {
		t.Error("the previous AppRole secret id still logs in: vault-init must destroy it")
	}
	r = runAsContainer(t, roleEnv("n8n-worker", nil), svcs["n8n-worker"].command())
	if fp := checkRole(t, "n8n-worker after rotation", svcs["n8n-worker"].env(nil), svcs["n8n-worker"].command(), r, expectVault, sec); fp != want {
		t.Errorf("after rotation the worker logged fingerprint %s, want %s", fp, want)
	}
	if r.childEnv["DB_POSTGRESDB_PASSWORD"] != newPassword {
		t.Error("after rotation the worker did not get the new Postgres password")
	}
	if n := loginTokensLeft(t, srv, "approle"); n != 0 {
		t.Errorf("%d AppRole login tokens left after rotation", n)
	}
}

// TestKubernetesVaultRehearsal runs the Vault side of the Kubernetes
// example (vault-kubernetes-auth.sh) against a real Vault, then each
// Deployment's environment through the binary with Kubernetes auth.
func TestKubernetesVaultRehearsal(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run vault-kubernetes-auth.sh")
	}
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	kv := kvReader{t, srv}
	sec := &secrets{t: t}
	key, dbPassword, redisPassword := "k8s-key-"+strings.Repeat("K", 36), "k8s-db-password-1234", "k8s-redis-password-5678"
	sec.add(srv.RootToken, key, dbPassword, redisPassword)
	srv.PutKV("secret/n8n/core", map[string]any{"encryption_key": key})
	srv.PutKV("secret/n8n/db", map[string]any{"password": dbPassword, "user": "n8n"})
	srv.PutKV("secret/n8n/redis", map[string]any{"password": redisPassword})

	// Vault outside the cluster: the API server's CA is given.
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, selfSignedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runScript(t, filepath.Join("kubernetes", "vault-kubernetes-auth.sh"), map[string]string{
		"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken, "K8S_HOST": "https://127.0.0.1:1", "K8S_CA_FILE": caFile,
	}, "")
	sec.assertAbsent("vault-kubernetes-auth.sh output", out)
	if code != 0 {
		t.Fatalf("vault-kubernetes-auth.sh: exit %d:\n%s", code, sec.show(out))
	}

	cfg, err := srv.Client().Logical().Read("auth/kubernetes/config")
	if err != nil || cfg == nil || !strings.Contains(str(cfg.Data["kubernetes_ca_cert"]), "\n-----END CERTIFICATE-----") {
		t.Errorf("auth/kubernetes/config does not hold the CA as PEM (%v)", err)
	}
	role, err := srv.Client().Logical().Read("auth/kubernetes/role/n8n")
	if err != nil || role == nil {
		t.Fatalf("vault-kubernetes-auth.sh wrote no role n8n (%v)", err)
	}

	deps := k8sDeployments(t, k8sVaultFile)
	sa, ns := deps["n8n"].serviceAccount, deps["n8n"].namespace
	if deps["n8n"].env["VAULT_AUTH_ROLE"] != "n8n" {
		t.Errorf("the Deployments log in with role %q, the script writes n8n", deps["n8n"].env["VAULT_AUTH_ROLE"])
	}
	if got := fmt.Sprint(role.Data["bound_service_account_names"], role.Data["bound_service_account_namespaces"]); got != fmt.Sprint([]any{sa}, []any{ns}) {
		t.Errorf("the script's role is bound to %s, the Deployments run as %s/%s", got, ns, sa)
	}
	// A stand-in TokenReview API that approves one token of that
	// ServiceAccount, under a role of its own: the script's role (bound to
	// the ServiceAccount, with the read policy) is the one logged in with.
	jwt := srv.EnableKubernetes("kubernetes", "vaulttest-reviewer", sa, ns, "default")
	jwtFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(jwtFile, []byte(jwt), 0o600); err != nil {
		t.Fatal(err)
	}
	fps := map[string]string{}
	for _, name := range n8nServices {
		c := deps[name]
		if c.serviceAccount != sa || c.namespace != ns {
			t.Errorf("%s: runs as %s/%s, the other Deployments as %s/%s", name, c.namespace, c.serviceAccount, ns, sa)
		}
		env := map[string]string{}
		for k, v := range c.env {
			env[k] = v
		}
		env["VAULT_ADDR"] = srv.Addr
		delete(env, "VAULT_CACERT")     // the test Vault is plain HTTP on loopback
		env["VAULT_JWT_FILE"] = jwtFile // the pod's token is at the default path
		r := runK8sContainer(t, env, c)
		fps[name] = checkRole(t, name, c.env, c.args, r, func(_, v string) (string, bool) { return kv.resolve(v) }, sec)
	}
	for name, fp := range fps {
		if fp != n8n.Fingerprint(key) {
			t.Errorf("%s logged fingerprint %s, want %s", name, fp, n8n.Fingerprint(key))
		}
	}
	if n := loginTokensLeft(t, srv, "kubernetes"); n != 0 {
		t.Errorf("%d Kubernetes login tokens left: n8n-secrets must revoke its token before exec", n)
	}
}

// selfSignedCA returns a PEM CA certificate, standing in for a cluster's.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// plantKubeletSecret writes files as a Kubernetes secret volume holds
// them: the data in a timestamped directory, ..data a symlink to it, and
// one symlink per key into ..data.
func plantKubeletSecret(t *testing.T, dir string, data map[string]string) {
	t.Helper()
	ts := "..2026_01_02_03_04_05.000000001"
	if err := os.MkdirAll(filepath.Join(dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(dir, ts, k), []byte(v), 0o440); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", k), filepath.Join(dir, k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(ts, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// TestKubernetesSecretVolumeRehearsal runs each Deployment of the
// secret-volume variant against a directory laid out as Kubelet lays out
// a secret volume (symlinks).
func TestKubernetesSecretVolumeRehearsal(t *testing.T) {
	deps := k8sDeployments(t, k8sFileFile)
	sec := &secrets{t: t}
	values := map[string]string{
		"encryption_key": "vol-key-" + strings.Repeat("V", 36),
		"db_password":    "vol-db-password-1234",
		"redis_password": "vol-redis-password-5678",
	}
	for _, k := range sortedKeys(values) {
		sec.add(values[k])
	}
	sb := newSandbox(t, "kubernetes")
	fps := map[string]string{}
	for _, name := range n8nServices {
		c := deps[name]
		mounts := map[string]string{}
		for p, vol := range c.mounts {
			mounts[p] = vol
		}
		env := sb.rewrite(c.env, mounts)
		dir := env["N8N_SECRETS_DIR"]
		if dir == c.env["N8N_SECRETS_DIR"] {
			t.Fatalf("%s: N8N_SECRETS_DIR %s is not a volume mount", name, dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "..data")); err != nil {
			plantKubeletSecret(t, dir, values)
		}
		expect := func(_, v string) (string, bool) {
			ref, err := providers.Stores.Parse(v)
			if err != nil {
				return "", false
			}
			val, ok := values[ref.Path()]
			return val, ok
		}
		r := runAsContainer(t, env, c.args)
		fps[name] = checkRole(t, name, c.env, c.args, r, expect, sec)
	}
	for name, fp := range fps {
		if fp != n8n.Fingerprint(values["encryption_key"]) {
			t.Errorf("%s logged fingerprint %s, want the planted key's", name, fp)
		}
	}
}

// TestSwarmRehearsal runs each n8n service of the stack against files laid
// out as Swarm mounts the secrets (/run/secrets/<target>), written with a
// trailing newline as `docker secret create name ./file` often gets them.
func TestSwarmRehearsal(t *testing.T) {
	stack := services(t, stackFile)
	sec := &secrets{t: t}
	values := map[string]string{
		"n8n_encryption_key": "swarm-key-" + strings.Repeat("S", 34),
		"n8n_db_password":    "swarm-db-password-1234",
		"n8n_redis_password": "swarm-redis-password-5678",
	}
	dir := t.TempDir()
	for _, k := range sortedKeys(values) {
		sec.add(values[k])
		if err := os.WriteFile(filepath.Join(dir, k), []byte(values[k]+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	fps := map[string]string{}
	for _, name := range n8nServices {
		s := stack[name]
		env := map[string]string{}
		for k, v := range s.env(nil) {
			if rest, ok := strings.CutPrefix(v, "/run/secrets/"); ok {
				v = filepath.Join(dir, rest)
			}
			env[k] = v
		}
		if _, set := env["N8N_SECRETS_DIR"]; set {
			t.Errorf("stack: %s sets N8N_SECRETS_DIR: Swarm mounts secrets at the default, /run/secrets", name)
		}
		env["N8N_SECRETS_DIR"] = dir
		expect := func(_, v string) (string, bool) {
			base := filepath.Base(v)
			if ref, err := providers.Stores.Parse(v); err == nil && providers.Stores.IsReference(v) {
				base = ref.Path()
			}
			val, ok := values[base]
			return val, ok
		}
		r := runAsContainer(t, env, s.command())
		fps[name] = checkRole(t, name, s.env(nil), s.command(), r, expect, sec)
	}
	for name, fp := range fps {
		if fp != n8n.Fingerprint(values["n8n_encryption_key"]) {
			t.Errorf("%s logged fingerprint %s, want the planted key's (one trailing newline dropped)", name, fp)
		}
	}
}
