package main

// The settings file's sync only with a key proved against n8n's database,
// and verify-key and the check before start when the variables name a
// place without n8n's tables.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
)

// TestSyncOnlyWithAProvedKey: N8N_SECRETS_N8N_SETTINGS=sync replaces the
// settings file's key only when N8N_ENCRYPTION_KEY decrypted n8n's
// database before start. A key typed wrong in the environment while the
// database is unreachable (compose starting PostgreSQL and n8n together),
// a login refused, bad database settings, the check off, no database, no
// n8n tables, nothing encrypted: the start is refused (78,
// N8N_SETTINGS_SYNC_UNPROVED) and the file, which may hold the only copy
// of the key, is left byte for byte.
func TestSyncOnlyWithAProvedKey(t *testing.T) {
	pg := pgtest.Start(t)
	n8ntest.RestorePostgres(t, pg, n8ntest.Postgres2x, "n8nsync")
	pg.RequirePasswords()
	pg.CreateDatabase("empty", "", "")
	pgEnv := func(kv ...string) []string {
		return append([]string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host, "DB_POSTGRESDB_PORT=" + strconv.Itoa(pg.Port),
			"DB_POSTGRESDB_DATABASE=n8nsync", "DB_POSTGRESDB_USER=" + n8ntest.PGUser, "DB_POSTGRESDB_PASSWORD=" + n8ntest.PGPassword}, kv...)
	}
	cases := []struct {
		name string
		env  []string
		// sqlite: the fixture database in the user folder
		sqlite bool
	}{
		{"database unreachable under auto", []string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=127.0.0.1", "DB_POSTGRESDB_PORT=1"}, false},
		{"login refused under auto", pgEnv("DB_POSTGRESDB_PASSWORD=wrong-password"), false},
		{"bad database settings under auto", []string{"DB_TYPE=mysqldb"}, true},
		{"check off", []string{"N8N_SECRETS_VERIFY_KEY=off"}, true},
		{"no database yet", nil, false},
		{"no n8n tables (a wrong DB_TABLE_PREFIX)", []string{"DB_TABLE_PREFIX=other_"}, true},
		{"no n8n tables (another database)", pgEnv("DB_POSTGRESDB_DATABASE=empty", "DB_POSTGRESDB_USER=postgres", "DB_POSTGRESDB_PASSWORD="), false},
		{"the key does not decrypt the database", []string{"N8N_ENCRYPTION_KEY=file:other_key"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newE2E(t)
			e.canaries = append(e.canaries, n8ntest.Key)
			e.plant("key", n8ntest.Key)
			other := e.canary("otherkey") + "-0123456789"
			e.plant("other_key", other)
			if c.sqlite {
				folder, _ := n8ntest.CopySQLite(t, n8ntest.SQLite2x)
				e.home = folder
			}
			old := e.canary("filekey") + "-0123456789"
			path, before := settingsFixture(t, e, old)
			env := append([]string{"N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync", "E2E_CHILD_EXIT=0"}, c.env...)
			r := e.run(env, "--", fakeN8N(t, "n8n"), "worker")
			if r.code != 78 || r.child != nil {
				t.Fatalf("exit %d, child ran %v: want 78 and no start\n%s", r.code, r.child != nil, r.stderr)
			}
			if !strings.Contains(r.stderr, n8n.CodeSettingsSyncUnproved.Name()) || strings.Contains(r.stderr, n8n.CodeSettingsSynced.Name()) {
				t.Fatalf("want %s\n%s", n8n.CodeSettingsSyncUnproved, r.stderr)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Fatal("the settings file changed")
			}
			// check says the same, and writes nothing either.
			r = e.run(env, "check")
			if r.code == 0 || !strings.Contains(r.stdout, n8n.CodeSettingsSyncUnproved.Name()) || strings.Contains(r.stdout, n8n.CodeSettingsSyncPlanned.Name()) {
				t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
	// Proved, on PostgreSQL and SQLite: rewritten.
	for name, sqlite := range map[string]bool{"postgres": false, "sqlite": true} {
		t.Run("proved against "+name, func(t *testing.T) {
			e := newE2E(t)
			e.canaries = append(e.canaries, n8ntest.Key)
			e.plant("key", n8ntest.Key)
			var env []string
			if sqlite {
				e.home, _ = n8ntest.CopySQLite(t, n8ntest.SQLite2x)
			} else {
				env = pgEnv()
			}
			old := e.canary("filekey") + "-0123456789"
			path, _ := settingsFixture(t, e, old)
			r := e.run(append(env, "N8N_ENCRYPTION_KEY=file:key", "N8N_SECRETS_N8N_SETTINGS=sync", "E2E_CHILD_EXIT=0"), "--", fakeN8N(t, "n8n"), "worker")
			if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) || !strings.Contains(r.stderr, n8n.CodeSettingsSynced.Name()) {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if after, _ := os.ReadFile(path); !bytes.Contains(after, []byte(n8ntest.Key)) || bytes.Contains(after, []byte(old)) {
				t.Fatal("the settings file was not rewritten with the proved key")
			}
		})
	}
}

// TestVerifyKeyNoTables: verify-key on a place without n8n's tables (a
// wrong DB_TABLE_PREFIX, a wrong DB_POSTGRESDB_SCHEMA, an existing but
// wrong database) verified nothing: exit 64 with N8N_DB_NO_TABLES, never
// "ok", with the right key or a wrong one. The check before start warns
// under auto, and refuses a worker under on.
func TestVerifyKeyNoTables(t *testing.T) {
	pg := pgtest.Start(t)
	n8ntest.RestorePostgres(t, pg, n8ntest.Postgres2x, "n8nnt")
	pg.CreateDatabase("wrongdb", n8ntest.PGUser, n8ntest.PGPassword)
	pg.Exec("n8nnt", "CREATE SCHEMA other AUTHORIZATION "+n8ntest.PGUser)
	pgEnv := func(kv ...string) []string {
		return append([]string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host, "DB_POSTGRESDB_PORT=" + strconv.Itoa(pg.Port),
			"DB_POSTGRESDB_DATABASE=n8nnt", "DB_POSTGRESDB_USER=" + n8ntest.PGUser, "DB_POSTGRESDB_PASSWORD=" + n8ntest.PGPassword}, kv...)
	}
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	places := map[string][]string{
		"sqlite, wrong DB_TABLE_PREFIX":        {"DB_TABLE_PREFIX=n8n_"},
		"postgres, wrong DB_TABLE_PREFIX":      pgEnv("DB_TABLE_PREFIX=n8n_"),
		"postgres, wrong DB_POSTGRESDB_SCHEMA": pgEnv("DB_POSTGRESDB_SCHEMA=other"),
		"postgres, another database":           pgEnv("DB_POSTGRESDB_DATABASE=wrongdb"),
	}
	for name, place := range places {
		t.Run(name, func(t *testing.T) {
			for _, key := range []string{"file:n8n_key", "file:new_key"} {
				env := append([]string{"N8N_ENCRYPTION_KEY=" + key}, place...)
				r := ke.run(env, "verify-key")
				if r.code != 64 || !strings.Contains(r.stderr, rekey.CodeDBNoTables.Name()) || strings.Contains(r.stdout, "ok") {
					t.Fatalf("verify-key (%s): exit %d, want 64 and %s\n%s\n%s", key, r.code, rekey.CodeDBNoTables, r.stdout, r.stderr)
				}
				r = ke.run(env, "verify-key", "--json")
				if r.code != 64 || !strings.Contains(r.stdout, `"ok": false`) || !strings.Contains(r.stdout, rekey.CodeDBNoTables.Name()) {
					t.Fatalf("verify-key --json: exit %d\n%s", r.code, r.stdout)
				}
			}
			cmd := fakeN8N(t, "n8n")
			env := append([]string{"N8N_ENCRYPTION_KEY=file:new_key", "E2E_CHILD_EXIT=0"}, place...)
			r := ke.run(env, "--", cmd, "worker")
			if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDBNoTables.Name()) || !strings.Contains(r.stderr, `"level":"WARN"`) {
				t.Fatalf("before start under auto: exit %d\n%s", r.code, r.stderr)
			}
			r = ke.run(append(env, "N8N_SECRETS_VERIFY_KEY=on"), "--", cmd, "worker")
			if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeDBNoTables.Name()) {
				t.Fatalf("a worker before start under on: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestKeyFileOutsideMounts: n8n 1.123 and 2.40 read N8N_ENCRYPTION_KEY_FILE
// themselves, wherever it is (@n8n/config, the contents trimmed), and
// n8n-secrets leaves a NAME_FILE outside the secrets mounts to them: the
// guard, the check before start, EXPECT_KEY_FINGERPRINT, verify-key and
// fingerprint must read the key there as n8n does, not as "no key". A
// worker with the right key starts, a main with the wrong one does not,
// and the child still reads the file itself.
func TestKeyFileOutsideMounts(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	outside := t.TempDir()
	right := filepath.Join(outside, "right")
	wrong := filepath.Join(outside, "wrong")
	if err := os.WriteFile(right, []byte(" "+n8ntest.Key+" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrong, []byte(ke.newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := fakeN8N(t, "n8n")
	fp := n8n.Fingerprint(n8ntest.Key)
	r := ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + right, "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) || !strings.Contains(r.stderr, `"n8n_key_fingerprint":"`+fp+`"`) {
		t.Fatalf("a worker with the right key in N8N_ENCRYPTION_KEY_FILE: exit %d\n%s", r.code, r.stderr)
	}
	if c := envOf(r.child); c["N8N_ENCRYPTION_KEY_FILE"] != right || c["N8N_ENCRYPTION_KEY"] != "" {
		t.Error("the child must read N8N_ENCRYPTION_KEY_FILE itself, as it was given")
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + wrong, "E2E_CHILD_EXIT=0"}, "--", cmd, "start")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) || strings.Contains(r.stderr, "will generate a key") {
		t.Fatalf("a main with the wrong key in N8N_ENCRYPTION_KEY_FILE: exit %d\n%s", r.code, r.stderr)
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + right, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT=" + fp, "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 0 || r.child == nil {
		t.Fatalf("EXPECT_KEY_FINGERPRINT with the right key in the file: exit %d\n%s", r.code, r.stderr)
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + filepath.Join(outside, "missing"), "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, "N8N_ENCRYPTION_KEY_FILE") {
		t.Fatalf("a key file n8n cannot read: exit %d\n%s", r.code, r.stderr)
	}
	if r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + right}, "verify-key"); r.code != 0 {
		t.Fatalf("verify-key: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + right}, "fingerprint"); r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("fingerprint: exit %d, %q", r.code, r.stdout)
	}
	if r = ke.run([]string{"N8N_ENCRYPTION_KEY_FILE=" + right}, "rekey", "--to", "file:new_key"); r.code != 0 {
		t.Fatalf("rekey's dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestDBPasswordFileOutsideMounts: the check before start reads
// DB_POSTGRESDB_PASSWORD_FILE outside the secrets mounts as n8n does
// (itself, trimmed), so it logs in, and a worker with the wrong key is
// refused under auto instead of starting after a failed login.
func TestDBPasswordFileOutsideMounts(t *testing.T) {
	pg := pgtest.Start(t)
	n8ntest.RestorePostgres(t, pg, n8ntest.Postgres2x, "n8npwf")
	pg.RequirePasswords()
	pwFile := filepath.Join(t.TempDir(), "db_password")
	if err := os.WriteFile(pwFile, []byte(n8ntest.PGPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	ke.canaries = append(ke.canaries, n8ntest.PGPassword)
	env := func(key string) []string {
		return []string{"N8N_ENCRYPTION_KEY=" + key, "E2E_CHILD_EXIT=0", "DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host,
			"DB_POSTGRESDB_PORT=" + strconv.Itoa(pg.Port), "DB_POSTGRESDB_DATABASE=n8npwf", "DB_POSTGRESDB_USER=" + n8ntest.PGUser,
			"DB_POSTGRESDB_PASSWORD_FILE=" + pwFile}
	}
	cmd := fakeN8N(t, "n8n")
	r := ke.run(env("file:new_key"), "--", cmd, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) {
		t.Fatalf("a worker with the wrong key: exit %d, started %v\n%s", r.code, r.child != nil, r.stderr)
	}
	r = ke.run(env("file:n8n_key"), "--", cmd, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) || envOf(r.child)["DB_POSTGRESDB_PASSWORD_FILE"] != pwFile {
		t.Fatalf("a worker with the right key: exit %d\n%s", r.code, r.stderr)
	}
	if r = ke.run(env("file:n8n_key"), "verify-key"); r.code != 0 {
		t.Fatalf("verify-key: exit %d\n%s", r.code, r.stderr)
	}
}

// TestPGVariables: libpq's PG* variables, as n8n's driver (node-postgres)
// reads them: PGSERVICE, PGSSLMODE, PGTARGETSESSIONATTRS and PGHOST beside
// DB_POSTGRESDB_HOST change nothing (node-postgres does not read them, or
// n8n's values win); PGPASSWORD is the password when
// DB_POSTGRESDB_PASSWORD is empty; a pgpass file when both are.
func TestPGVariables(t *testing.T) {
	pg := pgtest.Start(t)
	n8ntest.RestorePostgres(t, pg, n8ntest.Postgres2x, "n8npgv")
	pg.RequirePasswords()
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	ke.canaries = append(ke.canaries, n8ntest.PGPassword)
	base := []string{"N8N_ENCRYPTION_KEY=file:n8n_key", "DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host,
		"DB_POSTGRESDB_PORT=" + strconv.Itoa(pg.Port), "DB_POSTGRESDB_DATABASE=n8npgv", "DB_POSTGRESDB_USER=" + n8ntest.PGUser}
	pgpass := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(pgpass, []byte(fmt.Sprintf("%s:%d:n8npgv:%s:%s\n", pg.Host, pg.Port, n8ntest.PGUser, n8ntest.PGPassword)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string][]string{
		"PGSERVICE without a service file": {"DB_POSTGRESDB_PASSWORD=" + n8ntest.PGPassword, "PGSERVICE=n8n", "PGSERVICEFILE=/nonexistent/pg_service.conf"},
		"PGSSLMODE=require, PGTARGETSESSIONATTRS=read-only, PGHOST": {"DB_POSTGRESDB_PASSWORD=" + n8ntest.PGPassword, "PGSSLMODE=require",
			"PGTARGETSESSIONATTRS=read-only", "PGHOST=192.0.2.1", "PGCHANNELBINDING=require"},
		"PGPASSWORD for an empty DB_POSTGRESDB_PASSWORD": {"DB_POSTGRESDB_PASSWORD=", "PGPASSWORD=" + n8ntest.PGPassword},
		"a pgpass file": {"PGPASSFILE=" + pgpass},
	} {
		t.Run(name, func(t *testing.T) {
			r := ke.run(append(append([]string{}, base...), extra...), "verify-key")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	// A pgpass file others may read is ignored, as node-postgres does.
	if err := os.Chmod(pgpass, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := ke.run(append(append([]string{}, base...), "PGPASSFILE="+pgpass), "verify-key"); r.code != 77 {
		t.Fatalf("a pgpass file readable by others: exit %d, want 77\n%s", r.code, r.stderr)
	}
}

// TestStrayDataKey: a data key in deployment_key that no key unwraps (left
// by another instance key), while the others unwrap. The real n8n 2.40
// starts on it with only a warning (KeyManagerService: "DEK … is in an
// unrecognized format"); so does the check before start with the right key
// (N8N_DATA_KEY_UNREADABLE naming it), where it refused the right key (78).
// A wrong key, which unwraps none, is still refused.
func TestStrayDataKey(t *testing.T) {
	in := n8nreal.V2(t)
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	raw := strings.Repeat("ab", 32)
	wrapped, err := cipher.Wrap("another-instance-key-0123456789", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := n8ntest.OpenSQLite(t, ke.dbPath)
	c.Exec(t, `INSERT INTO deployment_key (id, type, value, algorithm, status) VALUES ('strayDataKey0001', 'data_encryption', ?, 'aes-256-gcm', 'inactive')`, wrapped)
	c.Close()

	// The precondition: the real n8n 2.40 starts on this database.
	node := n8nreal.NewNode(t, in, "N8N_ENCRYPTION_KEY="+n8ntest.Key)
	if err := os.MkdirAll(node.DataDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ke.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(node.SQLitePath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := node.Start()
	if err != nil {
		t.Fatalf("the real n8n %s does not start with a stray data key: %v\n%s", in.Version, err, lastLines(n8nreal.OutputOf(err), 30))
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Output(), "strayDataKey0001") {
		t.Fatalf("n8n's output does not warn about the stray key:\n%s", lastLines(p.Output(), 20))
	}

	cmd := fakeN8N(t, "n8n")
	r := ke.run(ke.env("E2E_CHILD_EXIT=0"), "--", cmd, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDataKeyUnreadable.Name()) || !strings.Contains(r.stderr, "strayDataKey0001") {
		t.Fatalf("the right key with a stray data key: exit %d, want 0 and a warning\n%s", r.code, r.stderr)
	}
	r = ke.run([]string{"N8N_ENCRYPTION_KEY=file:new_key", "E2E_CHILD_EXIT=0"}, "--", cmd, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) {
		t.Fatalf("a wrong key: exit %d, want 78\n%s", r.code, r.stderr)
	}
}

// TestRekeyReadsTheOldKeyAsN8N: rekey's old key (--from, by default
// N8N_ENCRYPTION_KEY) is the key n8n used, trimmed and unquoted as n8n
// reads the variable: a key stored with white space or quotes around it
// decrypts the database n8n wrote with it.
func TestRekeyReadsTheOldKeyAsN8N(t *testing.T) {
	ke := newKeyE2E(t, n8ntest.SQLite2x)
	ke.plant("spaced_key", ` "`+n8ntest.Key+`"  `+"\n")
	for _, env := range [][]string{{"N8N_ENCRYPTION_KEY=file:spaced_key"}, {"OLD_KEY=file:spaced_key"}} {
		args := []string{"rekey", "--to", "file:new_key"}
		if strings.HasPrefix(env[0], "OLD_KEY") {
			args = append(args, "--from", "OLD_KEY")
		}
		if r := ke.run(append(env, "N8N_SECRETS_TIMEOUT=20s"), args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", env, r.code, r.stdout, r.stderr)
		}
	}
}
