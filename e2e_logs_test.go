package main

// End-to-end tests of what an operator meets: a developer shell's stray
// NAME_FILE variables, logs an alert rule can use, the small things.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// TestDeveloperShellStartsCleanly: a developer shell's *_FILE variables
// point at files of other tools; they are left as they are (a 220 KB CA
// bundle does not enter the environment, a missing file does not fail the
// start), while a NAME_FILE under the secrets dir is still resolved.
func TestDeveloperShellStartsCleanly(t *testing.T) {
	e := newE2E(t)
	tools := t.TempDir()
	bundle := filepath.Join(tools, "ca-bundle.crt")
	if err := os.WriteFile(bundle, []byte(strings.Repeat("-----BEGIN CERTIFICATE-----\nMIIB\n", 220<<10/32)), 0o644); err != nil {
		t.Fatal(err)
	}
	pw := e.canary("redis")
	redis := e.plant("redis_password", pw+"\n")
	env := []string{
		"TF_CLI_CONFIG_FILE=" + filepath.Join(tools, "terraformrc-missing"),
		"NIX_SSL_CERT_FILE=" + bundle,
		"CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE=" + bundle,
		"GIT_CONFIG_FILE=relative/path",
		"QUEUE_BULL_REDIS_PASSWORD_FILE=" + redis,
		"N8N_SECRETS_N8N=off", "E2E_CHILD_EXIT=0",
	}
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := envOf(r.child)
	for _, k := range []string{"TF_CLI_CONFIG_FILE", "NIX_SSL_CERT_FILE", "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE", "GIT_CONFIG_FILE"} {
		if got[k] == "" {
			t.Errorf("%s did not reach the child as it was", k)
		}
	}
	for _, k := range []string{"TF_CLI_CONFIG", "NIX_SSL_CERT", "CLOUDSDK_CORE_CUSTOM_CA_CERTS", "QUEUE_BULL_REDIS_PASSWORD_FILE"} {
		if _, ok := got[k]; ok {
			t.Errorf("the child has %s", k)
		}
	}
	if got["QUEUE_BULL_REDIS_PASSWORD"] != pw {
		t.Error("the NAME_FILE under the secrets dir was not resolved")
	}
	left := false
	for _, ev := range jsonEvents(t, r.stderr) {
		if ev["code"] == codeFileVarsLeft.Name() {
			left = strings.Contains(strings.Join(anyStrings(ev["vars"]), ","), "NIX_SSL_CERT_FILE")
		}
	}
	if !left {
		t.Errorf("the variables left alone are not logged:\n%s", r.stderr)
	}

	// N8N_SECRETS_FILE_VARS=* resolves every NAME_FILE, as before; then a
	// missing file fails the start naming the variable it came from, and
	// N8N_SECRETS_SKIP takes either name.
	r = e.run(append(env, "N8N_SECRETS_FILE_VARS=*", "N8N_SECRETS_SKIP=GIT_CONFIG"), "--", self(t))
	if r.code != 65 || r.child != nil || !strings.Contains(r.stderr, `"from":"TF_CLI_CONFIG_FILE"`) {
		t.Fatalf("FILE_VARS=*: exit %d\n%s", r.code, r.stderr)
	}
	for _, skip := range []string{"TF_CLI_CONFIG,GIT_CONFIG", "TF_CLI_CONFIG_FILE,GIT_CONFIG_FILE"} {
		r = e.run(append(env, "N8N_SECRETS_FILE_VARS=*", "N8N_SECRETS_SKIP="+skip, "N8N_SECRETS_TIMEOUT=5s"), "--", self(t))
		// The CA bundles are resolved (FILE_VARS=*): each 220 KB value is
		// larger than Linux takes, named before exec.
		if r.code != 65 || !strings.Contains(r.stderr, "VALUE_TOO_LARGE") || strings.Contains(r.stderr, "TF_CLI_CONFIG_FILE\"") {
			t.Errorf("SKIP=%s: exit %d\n%s", skip, r.code, r.stderr)
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestUsageErrorsAreLogs: in JSON mode (the default) a usage or settings
// error is a JSON line with a code and a hint; in text mode it is the
// "n8n-secrets: error:" line people read.
func TestUsageErrorsAreLogs(t *testing.T) {
	e := newE2E(t)
	r := e.run(nil, "chek")
	evs := jsonEvents(t, r.stderr)
	if r.code != 64 || len(evs) != 1 || evs[0]["code"] != "USAGE" || !strings.Contains(evs[0]["hint"].(string), "did you mean n8n-secrets check?") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = e.run([]string{"N8N_SECRETS_TIMEOUT=soon"}, "--", self(t))
	evs = jsonEvents(t, r.stderr)
	if r.code != 64 || len(evs) != 1 || evs[0]["code"] != "USAGE" || !strings.Contains(evs[0]["error"].(string), "N8N_SECRETS_TIMEOUT") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = e.run([]string{"N8N_SECRETS_LOG_FORMAT=text", "N8N_SECRETS_TIMEOUT=soon"}, "--", self(t))
	if r.code != 64 || !strings.HasPrefix(r.stderr, "n8n-secrets: error: N8N_SECRETS_TIMEOUT") {
		t.Errorf("text mode: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if r := e.run(nil, args...); r.code != 0 || r.stdout != "n8n-secrets e2e\n" {
			t.Errorf("%v: exit %d, %q", args, r.code, r.stdout)
		}
	}
}

// TestNotStartingEvent: one event per refused start, with the codes of
// what failed, the command and the role; every event has a code.
func TestNotStartingEvent(t *testing.T) {
	e := newE2E(t)
	e.plant("key", e.canary("key"))
	cmd := fakeN8N(t, "n8n")
	// A malformed reference stops the start before anything is fetched.
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "A=file:nope", "B=vault:x"}, "--", cmd, "worker")
	last := jsonEvents(t, r.stderr)
	ev := last[len(last)-1]
	if r.code != 65 || ev["code"] != codeNotStarting.Name() || ev["command"] != cmd || ev["exit"] != 65.0 ||
		!slices.Equal(anyStrings(ev["failed_codes"]), []string{"BAD_REFERENCE"}) {
		t.Errorf("exit %d, last event %v", r.code, ev)
	}
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", "A=file:nope", "N8N_SECRETS_N8N=off"}, "check", "--json")
	if r.code != 65 || !strings.Contains(r.stdout, "SECRET_NOT_FOUND") {
		t.Errorf("check: exit %d\n%s", r.code, r.stdout)
	}
	r = e.run([]string{"N8N_ENCRYPTION_KEY=/run/secrets/x"}, "--", cmd, "worker")
	last = jsonEvents(t, r.stderr)
	ev = last[len(last)-1]
	if r.code != 78 || ev["code"] != codeNotStarting.Name() || ev["n8n_role"] != "worker" ||
		!slices.Equal(anyStrings(ev["failed_codes"]), []string{n8n.CodeKeyIsPath.Name()}) {
		t.Errorf("exit %d, last event %v", r.code, ev)
	}
	// exec names the role also without a key (a lone main warns).
	r = e.run(nil, "--", cmd)
	last = jsonEvents(t, r.stderr)
	if ev = last[len(last)-1]; r.code != 0 || ev["code"] != codeExec.Name() || ev["n8n_role"] != "start" {
		t.Errorf("exit %d, last event %v", r.code, ev)
	}
}

// TestExecuteCommandWarning: injected secrets with the Execute Command
// node available: a warning naming NODES_EXCLUDE; none once excluded.
func TestExecuteCommandWarning(t *testing.T) {
	e := newE2E(t)
	e.plant("key", e.canary("key"))
	cmd := fakeN8N(t, "n8n")
	r := e.run([]string{"N8N_ENCRYPTION_KEY=file:key"}, "--", cmd)
	if r.code != 0 || !strings.Contains(r.stderr, `"code":"`+n8n.CodeExecuteCommand.Name()+`"`) || !strings.Contains(r.stderr, "NODES_EXCLUDE") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	r = e.run([]string{"N8N_ENCRYPTION_KEY=file:key", `NODES_EXCLUDE=["n8n-nodes-base.executeCommand"]`}, "--", cmd)
	if r.code != 0 || strings.Contains(r.stderr, n8n.CodeExecuteCommand.Name()) {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}
