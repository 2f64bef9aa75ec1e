package main

// End-to-end tests of verify-key, rekey and the key check before n8n
// starts: the real binary on n8n's databases as the real n8n made them
// (testdata/n8n), in SQLite and in a real PostgreSQL (internal/testenv/pgtest),
// with the keys and the database's variables resolved through references,
// a crash (kill -9) in the middle of a rekey, and canaries: the keys and
// the credentials' plaintexts must appear in no output.

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
)

// keyE2E is a sandbox with one of the fixture databases in its user
// folder (SQLite) and the fixture key as a file: reference.
type keyE2E struct {
	*e2e
	dbPath string // SQLite
	newKey string
}

func newKeyE2E(t *testing.T, fixture string) *keyE2E {
	t.Helper()
	e := newE2E(t)
	folder, path := n8ntest.CopySQLite(t, fixture)
	e.home = folder
	ke := &keyE2E{e2e: e, dbPath: path}
	// The fixture key and the credentials' plaintexts must never be printed.
	e.canaries = append(e.canaries, n8ntest.Key, "fixture-api-key-1", "fixture-pg-pässword", "fixture basic pw")
	e.plant("n8n_key", n8ntest.Key+"\n")
	ke.newKey = e.canary("newkey") + "-0123456789abcdef"
	e.canaries[len(e.canaries)-1] = ke.newKey
	e.plant("new_key", ke.newKey)
	return ke
}

func (ke *keyE2E) env(extra ...string) []string {
	return append([]string{"N8N_ENCRYPTION_KEY=file:n8n_key", "N8N_SECRETS_TIMEOUT=20s"}, extra...)
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s)
}

func TestVerifyKeyCommand(t *testing.T) {
	for _, fx := range []string{n8ntest.SQLite1x, n8ntest.SQLite2x} {
		t.Run(fx, func(t *testing.T) {
			ke := newKeyE2E(t, fx)
			sum := fileSum(t, ke.dbPath)
			r := ke.run(ke.env(), "verify-key")
			if r.code != 0 || !strings.Contains(r.stdout, "credentials_entity.data") || !strings.Contains(r.stdout, "ok: every encrypted value decrypts") {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			r = ke.run(ke.env(), "verify-key", "--json")
			var rep verifyKeyReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK || rep.Report == nil || len(rep.Report.Counts) < 3 {
				t.Fatalf("--json: exit %d, %v\n%s", r.code, err, r.stdout)
			}
			// Another key: 78, the ids of what does not decrypt, no value.
			r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key"}, "verify-key")
			if r.code != 78 || !strings.Contains(r.stdout, "fixtureCred001") || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) {
				t.Fatalf("another key: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if fileSum(t, ke.dbPath) != sum {
				t.Fatal("verify-key changed the database file")
			}
		})
	}
}

// TestKeyCommandsPostgres: verify-key and rekey on a real PostgreSQL, the
// key and the database's name and password read from a real Vault.
func TestKeyCommandsPostgres(t *testing.T) {
	s := pgtest.Start(t)
	n8ntest.RestorePostgres(t, s, n8ntest.Postgres2x, "n8n240")
	ve := newVaultE2E(t)
	ve.e2e.canaries = append(ve.e2e.canaries, n8ntest.Key, "fixture-api-key-1", "fixture-pg-pässword", n8ntest.PGPassword)
	newKey := ve.canary("pg-newkey") + "-0123456789abcdef"
	ve.canaries[len(ve.canaries)-1] = newKey
	ve.v.PutKV("secret/n8n/fixture", map[string]any{"encryption_key": n8ntest.Key, "new_key": newKey})
	ve.v.PutKV("secret/n8n/pg", map[string]any{"database": "n8n240", "password": n8ntest.PGPassword})
	env := []string{
		"VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + ve.v.Token("n8n-read"),
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/fixture#encryption_key",
		"N8N_NEW_KEY=vault://secret/n8n/fixture#new_key",
		"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + s.Host, "DB_POSTGRESDB_PORT=" + strconv.Itoa(s.Port),
		"DB_POSTGRESDB_USER=" + n8ntest.PGUser,
		"DB_POSTGRESDB_DATABASE=vault://secret/n8n/pg#database",
		"DB_POSTGRESDB_PASSWORD=vault://secret/n8n/pg#password",
		"N8N_SECRETS_LOG_LEVEL=debug",
	}
	r := ve.run(env, "verify-key")
	if r.code != 0 || !strings.Contains(r.stdout, "postgresdb n8n@") {
		t.Fatalf("verify-key: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The test's own session would count as n8n's: none is open here.
	n8ntest.WaitIdle(t, s, "n8n240")
	r = ve.run(env, "rekey", "--to", "N8N_NEW_KEY", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "done:") {
		t.Fatalf("rekey --apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	newEnv := append(append([]string{}, env...), "N8N_ENCRYPTION_KEY=vault://secret/n8n/fixture#new_key")
	if r = ve.run(newEnv, "verify-key"); r.code != 0 {
		t.Fatalf("verify-key with the new key: exit %d\n%s", r.code, r.stdout)
	}
	if r = ve.run(env, "verify-key"); r.code != 78 {
		t.Fatalf("verify-key with the old key after rekey: exit %d, want 78", r.code)
	}
	// n8n holding the database (a session of its pool): refused, 78.
	conn := n8ntest.OpenPostgres(t, s, "n8n240")
	if err := conn.Ping(); err != nil {
		t.Fatal(err)
	}
	r = ve.run(newEnv, "rekey", "--from", "N8N_NEW_KEY", "--to", "vault://secret/n8n/fixture#encryption_key", "--apply")
	if r.code != 78 || !strings.Contains(r.stderr, rekey.CodeDBInUse.Name()) || !strings.Contains(r.stderr, "stop every n8n node") {
		t.Fatalf("rekey while held: exit %d\n%s", r.code, r.stderr)
	}
	conn.Close()
	// A database variable as NAME_FILE, like any variable.
	dbFile := ve.plant("pg_database", "n8n240\n")
	var fileEnv []string
	for _, kv := range newEnv {
		if !strings.HasPrefix(kv, "DB_POSTGRESDB_DATABASE=") {
			fileEnv = append(fileEnv, kv)
		}
	}
	if r = ve.run(append(fileEnv, "DB_POSTGRESDB_DATABASE_FILE="+dbFile), "verify-key"); r.code != 0 {
		t.Fatalf("DB_POSTGRESDB_DATABASE_FILE: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Unreachable: 69.
	bad := append(append([]string{}, env...), "DB_POSTGRESDB_PORT=1")
	if r = ve.run(bad, "verify-key"); r.code != 69 || !strings.Contains(r.stderr, rekey.CodeDBUnreachable.Name()) {
		t.Fatalf("unreachable: exit %d\n%s", r.code, r.stderr)
	}
}

func TestRekeyCommandSQLite(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	sum := fileSum(t, ke.dbPath)
	// A literal key on argv: refused, not echoed, nothing written.
	literal := ke.canary("argv-key") + "+/="
	ke.canaries[len(ke.canaries)-1] = literal
	r := ke.run(ke.env(), "rekey", "--to", literal, "--apply")
	if r.code != 64 || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("literal key: exit %d\n%s", r.code, r.stderr)
	}
	// Dry run: counts, the fingerprint, nothing written.
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key")
	if r.code != 0 || !strings.Contains(r.stdout, "dry run") || !strings.Contains(r.stdout, "signing secrets: keep (default)") ||
		!strings.Contains(r.stdout, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT=") {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if fileSum(t, ke.dbPath) != sum {
		t.Fatal("the dry run changed the database file")
	}
	// A wrong --from: 78, nothing written.
	other := ke.canary("other-key")
	ke.plant("other_key", other)
	r = ke.run(ke.env(), "rekey", "--from", "file:other_key", "--to", "file:new_key", "--apply")
	if r.code != 78 || fileSum(t, ke.dbPath) != sum {
		t.Fatalf("wrong --from: exit %d, database changed %v", r.code, fileSum(t, ke.dbPath) != sum)
	}
	// Refused while another process holds the database: this test process.
	holder := n8ntest.OpenSQLite(t, ke.dbPath)
	if err := holder.Ping(); err != nil {
		t.Fatal(err)
	}
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply")
	if r.code != 78 || !strings.Contains(r.stderr, rekey.CodeDBInUse.Name()) || fileSum(t, ke.dbPath) != sum {
		t.Fatalf("held: exit %d\n%s", r.code, r.stderr)
	}
	holder.Close()

	r = ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply", "--json")
	var rep rekeyReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK || !rep.Result.Applied || rep.ToFingerprint == "" {
		t.Fatalf("apply: exit %d %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key"}, "verify-key"); r.code != 0 {
		t.Fatalf("verify-key with the new key: exit %d\n%s", r.code, r.stdout)
	}
	if r = ke.run(ke.env(), "verify-key"); r.code != 78 {
		t.Fatalf("verify-key with the old key: exit %d", r.code)
	}
	sum = fileSum(t, ke.dbPath)
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stdout)
	}
	if fileSum(t, ke.dbPath) != sum {
		t.Fatal("a second run changed the database")
	}
}

// addCredentials adds n CBC credentials under the fixture key, so that a
// rekey takes long enough to be killed in the middle.
func addCredentials(t *testing.T, c *n8ntest.Conn, n int) {
	t.Helper()
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		v, _ := cipher.EncryptCBC(n8ntest.Key, []byte(`{"n":`+strconv.Itoa(i)+`}`))
		q := fmt.Sprintf(`INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (%s, %s, %s, %s)`, c.P(1), c.P(2), c.P(3), c.P(4))
		if _, err := tx.Exec(q, fmt.Sprintf("bulk%06d", i), "bulk", v, "httpHeaderAuth"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// killMidway runs rekey --apply at debug level and kills it (SIGKILL) once
// it has written its first value: it logs one event per value written,
// and once the test stops reading its stderr, the pipe fills and the
// process blocks long before the last value, so the kill always lands
// before the commit.
func killMidway(t *testing.T, e *e2e, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir, "N8N_SECRETS_LOG_LEVEL=debug"}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := false
	for sc.Scan() {
		e.assertNoCanary(sc.Text())
		if strings.Contains(sc.Text(), rekey.CodeRekeyed.Name()) {
			seen = true
			break
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if !seen {
		t.Fatal("the rekey wrote no value before it ended")
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the rekey was not killed in the middle: %v", cmd.ProcessState)
	}
}

func TestRekeyCrashSQLite(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite1x)
	c := n8ntest.OpenSQLite(t, ke.dbPath)
	addCredentials(t, c, 3000)
	c.Close()
	killMidway(t, ke.e2e, ke.env(), "rekey", "--to", "file:new_key", "--apply")
	// The old key decrypts everything; a second run completes it.
	if r := ke.run(ke.env(), "verify-key"); r.code != 0 {
		t.Fatalf("after the crash, the old key: exit %d\n%s", r.code, r.stdout)
	}
	if r := ke.run(ke.env(), "rekey", "--to", "file:new_key", "--apply"); r.code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key"}, "verify-key"); r.code != 0 {
		t.Fatalf("after the second run, the new key: exit %d\n%s", r.code, r.stdout)
	}
}

func TestRekeyCrashPostgres(t *testing.T) {
	s := pgtest.Start(t)
	n8ntest.RestorePostgres(t, s, n8ntest.Postgres1x, "n8ncrash")
	c := n8ntest.OpenPostgres(t, s, "n8ncrash")
	addCredentials(t, c, 3000)
	c.Close()
	n8ntest.WaitIdle(t, s, "n8ncrash")
	ke := newKeyE2E(t, n8ntest.SQLite1x) // for its sandbox and keys; the database is PostgreSQL
	env := ke.env()
	for k, v := range n8ntest.PostgresEnv(s, "n8ncrash") {
		env = append(env, k+"="+v)
	}
	killMidway(t, ke.e2e, env, "rekey", "--to", "file:new_key", "--apply")
	// The killed session's backend may take a moment to go away.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := ke.run(env, "verify-key")
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the crash, the old key: exit %d\n%s", r.code, r.stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var r result
	for {
		r = ke.run(env, "rekey", "--to", "file:new_key", "--apply")
		if r.code != 78 || !strings.Contains(r.stderr, rekey.CodeDBInUse.Name()) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	newEnv := append(append([]string{}, env...), "N8N_ENCRYPTION_KEY=file:new_key")
	if r := ke.run(newEnv, "verify-key"); r.code != 0 {
		t.Fatalf("the new key: exit %d\n%s", r.code, r.stdout)
	}
}

// TestVerifyBeforeStart: the check before n8n starts, on a matching and a
// mismatching key, and with the database unreachable under auto and on.
func TestVerifyBeforeStart(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	cmd := fakeN8N(t, "n8n")
	r := ke.run(ke.env("E2E_CHILD_EXIT=0"), "--", cmd, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) {
		t.Fatalf("matching key: exit %d, child ran %v\n%s", r.code, r.child != nil, r.stderr)
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key", "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) {
		t.Fatalf("mismatching key: exit %d, child ran %v\n%s", r.code, r.child != nil, r.stderr)
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key", "N8N_SECRETS_VERIFY_KEY=off", "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 0 || r.child == nil {
		t.Fatalf("off: exit %d", r.code)
	}
	pg := []string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=127.0.0.1", "DB_POSTGRESDB_PORT=1", "E2E_CHILD_EXIT=0"}
	r = ke.run(ke.env(pg...), "--", cmd, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDBUnreachable.Name()) || !strings.Contains(r.stderr, `"level":"WARN"`) {
		t.Fatalf("unreachable under auto: exit %d, child ran %v\n%s", r.code, r.child != nil, r.stderr)
	}
	r = ke.run(ke.env(append(pg, "N8N_SECRETS_VERIFY_KEY=on")...), "--", cmd, "worker")
	if r.code != 69 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeDBUnreachable.Name()) {
		t.Fatalf("unreachable under on: exit %d, child ran %v\n%s", r.code, r.child != nil, r.stderr)
	}
}
