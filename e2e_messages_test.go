package main

// Drift between what the tool says and what it does: the EXEC event's
// providers, the guard's message with no secret injected, the database
// check's message naming what happened.

import (
	"encoding/json"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestExecProvidersNeverNull: with no reference, the EXEC event's
// providers is [] in JSON, as it is in text, not null.
func TestExecProvidersNeverNull(t *testing.T) {
	e := newE2E(t)
	r := e.run([]string{"PLAIN=x", "N8N_SECRETS_N8N=off"}, "--", self(t))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var ev map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &ev) == nil && string(ev["code"]) == `"EXEC"` {
			if got := string(ev["providers"]); got != "[]" {
				t.Errorf("EXEC providers is %s, want []", got)
			}
			return
		}
	}
	t.Fatalf("no EXEC event:\n%s", r.stderr)
}

// TestGuardMessageWithoutSecrets: the guard's note on
// N8N_BLOCK_ENV_ACCESS_IN_NODE reads right with no secret injected
// ("with 0 injected secrets (n8n 1.x lets them …)" did not).
func TestGuardMessageWithoutSecrets(t *testing.T) {
	e := newE2E(t)
	r := e.run([]string{"N8N_SECRETS_N8N=on", "N8N_ENCRYPTION_KEY=" + e.canary("key"), "N8N_SECRETS_VERIFY_KEY=off"}, "--", self(t))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "0 injected secrets") || !strings.Contains(r.stderr, "cannot read the environment (n8n 1.x lets them read it unless it is true)") {
		t.Errorf("the N8N_ENV_ACCESS_BLOCKED message:\n%s", r.stderr)
	}
}

// TestDatabaseUnreachableSaysWhy: N8N_DB_UNREACHABLE says what happened
// (refused, the name does not resolve) rather than "no answer".
func TestDatabaseUnreachableSaysWhy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close() // nothing listens there now: connecting is refused at once
	e := newE2E(t)
	base := []string{"N8N_ENCRYPTION_KEY=" + e.canary("key"), "DB_TYPE=postgresdb", "DB_POSTGRESDB_PASSWORD=" + e.canary("pw"),
		"N8N_SECRETS_TIMEOUT=10s"}
	for _, tc := range []struct{ host, port, want string }{
		{"127.0.0.1", port, "connection refused"},
		{"n8n-secrets-test.invalid", "5432", "does not resolve"},
	} {
		r := e.run(append(base, "DB_POSTGRESDB_HOST="+tc.host, "DB_POSTGRESDB_PORT="+tc.port), "verify-key")
		if r.code != 69 || !strings.Contains(r.stderr, "N8N_DB_UNREACHABLE") || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "no answer") {
			t.Errorf("%s: exit %d, want 69 and %q:\n%s", tc.host, r.code, tc.want, r.stderr)
		}
	}
}

// TestMakeRun: make run's recipe, with this test's binary, resolves the
// example with --env-file and starts show-env.sh: no database check trips
// before start (the one warning is the example's optional secret).
func TestMakeRun(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "--no-print-directory", "-o", "build", "run", "BIN="+binPath)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("make run: %v\n%s\n%s", err, so.String(), se.String())
	}
	if !strings.Contains(so.String(), "show-env.sh (pid") || !strings.Contains(so.String(), "QUEUE_BULL_REDIS_PASSWORD ") ||
		!strings.Contains(so.String(), "DB_POSTGRESDB_PASSWORD ") {
		t.Errorf("show-env.sh did not show the example's variables:\n%s", so.String())
	}
	for _, bad := range []string{"N8N_DB_UNREACHABLE", "N8N_EXECUTE_COMMAND_ENABLED", `"level":"ERROR"`, "level=ERROR"} {
		if strings.Contains(se.String(), bad) {
			t.Errorf("make run logged %s:\n%s", bad, se.String())
		}
	}
}
