package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

const fixtures = "../../testdata/n8n/"

// TestMain lets the test binary stand in for n8n holding the database:
// STORE_TEST_HOLD=<path> opens it for writing, reads from it, says "ready"
// and keeps it open until its stdin closes.
func TestMain(m *testing.M) {
	if path := os.Getenv("STORE_TEST_HOLD"); path != "" {
		os.Exit(hold(path, os.Getenv("STORE_TEST_WAL") == "1"))
	}
	os.Exit(m.Run())
}

func hold(path string, wal bool) int {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	db.SetMaxOpenConns(1)
	if wal {
		if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
			fmt.Println("wal:", err)
			return 1
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM credentials_entity`).Scan(&n); err != nil {
		fmt.Println("query:", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func copyFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "database.sqlite")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromEnv(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		name string
		env  map[string]string
		want func(Config) bool
		err  string
	}{
		{"default sqlite in HOME", map[string]string{"HOME": home}, func(c Config) bool {
			return c.Type == TypeSQLite && c.SQLitePath == filepath.Join(home, ".n8n", "database.sqlite")
		}, ""},
		{"user folder and relative name", map[string]string{"N8N_USER_FOLDER": "/data", "DB_SQLITE_DATABASE": "x.db"}, func(c Config) bool {
			return c.SQLitePath == "/data/.n8n/x.db"
		}, ""},
		{"absolute sqlite path", map[string]string{"DB_SQLITE_DATABASE": "/srv/n8n.db"}, func(c Config) bool { return c.SQLitePath == "/srv/n8n.db" }, ""},
		{"postgres defaults", map[string]string{"DB_TYPE": "postgresdb"}, func(c Config) bool {
			return c.Host == "localhost" && c.Port == 5432 && c.Database == "n8n" && c.User == "postgres" && c.Schema == "public" && !c.SSL && c.SSLRejectUnauthorized
		}, ""},
		{"postgres ssl from a CA", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_SSL_CA": "/ca.pem"}, func(c Config) bool { return c.SSL }, ""},
		{"reject unauthorized false alone turns TLS on", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED": "false"}, func(c Config) bool {
			return c.SSL && !c.SSLRejectUnauthorized
		}, ""},
		{"a port n8n ignores", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_PORT": "x"}, func(c Config) bool {
			return c.Port == 5432 && len(c.Ignored) == 1 && strings.HasPrefix(c.Ignored[0], "DB_POSTGRESDB_PORT:")
		}, ""},
		{"a port out of range", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_PORT": "70000"}, nil, "DB_POSTGRESDB_PORT"},
		{"any schema and prefix (quoted in SQL)", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_SCHEMA": `a"b`, "DB_TABLE_PREFIX": "a;b"}, func(c Config) bool {
			return c.Schema == `a"b` && c.TablePrefix == "a;b"
		}, ""},
		{"mysql", map[string]string{"DB_TYPE": "mysqldb"}, nil, "DB_TYPE"},
		{"a type n8n ignores", map[string]string{"DB_TYPE": "postgres", "HOME": home}, func(c Config) bool { return c.Type == TypeSQLite && len(c.Ignored) == 1 }, ""},
		{"a boolean n8n ignores", map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_SSL_ENABLED": "yes please"}, func(c Config) bool {
			return !c.SSL && len(c.Ignored) == 1
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := FromEnv(c.env)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrConfig) {
					t.Fatalf("want an ErrConfig naming %s, got %v", c.err, err)
				}
				return
			}
			if err != nil || !c.want(cfg) {
				t.Fatalf("unexpected config (err %v)", err)
			}
		})
	}
	cfg, _ := FromEnv(map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_PASSWORD": "CANARYpw-store-1"})
	if d := cfg.Describe(); strings.Contains(d, "CANARY") || strings.Contains(fmt.Sprintf("%v %+v", cfg, cfg), "CANARY") {
		t.Fatal("the password shows in Describe or in a formatted Config")
	}
}

func TestSQLiteBatchAndUpdate(t *testing.T) {
	ctx := context.Background()
	p := copyFixture(t, "n8n-2.40-sqlite-gcm-mfa-fixture.sqlite")
	db, err := Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ok, err := db.HasTable(ctx, db.SQL(), "deployment_key")
	if err != nil || !ok {
		t.Fatalf("deployment_key: %v %v", ok, err)
	}
	if ok, _ := db.HasTable(ctx, db.SQL(), "no_such_table"); ok {
		t.Fatal("a missing table exists")
	}
	var ids []string
	var after []any
	for {
		rows, err := db.Batch(ctx, db.SQL(), "credentials_entity", []string{"id"}, []string{"data"}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			ids = append(ids, r.Key[0].(string))
		}
		after = rows[len(rows)-1].Key
	}
	if strings.Join(ids, ",") != "fixtureCred001,fixtureCred002,fixtureCred003" {
		t.Fatalf("batches: got %v", ids)
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, tx, "settings", []string{"key"}, []any{"chat.access.enabled"}, "value", "false", "true"); err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, tx, "settings", []string{"key"}, []any{"chat.access.enabled"}, "value", "false", "true")
	if !errors.Is(err, ErrQuery) {
		t.Fatalf("a compare-and-set on a changed row: got %v", err)
	}
	tx.Rollback()
}

func TestSQLiteMissingFileNotCreated(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing.sqlite")
	for _, ro := range []bool{true, false} {
		if _, err := Open(context.Background(), Config{Type: TypeSQLite, SQLitePath: p}, Options{ReadOnly: ro}); !errors.Is(err, ErrConfig) {
			t.Fatalf("read-only %v: want ErrConfig, got %v", ro, err)
		}
		if _, err := os.Stat(p); err == nil {
			t.Fatal("the file was created")
		}
	}
}

// startHolder runs the test binary as a process holding the database open,
// as n8n does, and stops it at cleanup.
func startHolder(t *testing.T, path string, wal bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STORE_TEST_HOLD="+path)
	if wal {
		cmd.Env = append(cmd.Env, "STORE_TEST_WAL=1")
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("holder: %s", line)
	}
}

// TestSQLiteHeld: a process with the database open, idle, in rollback-journal
// and in WAL mode, makes a writer's Open fail with ErrHeld; each probe is
// checked on its own too, so that none is dead code.
func TestSQLiteHeld(t *testing.T) {
	for _, wal := range []bool{false, true} {
		t.Run(fmt.Sprintf("wal=%v", wal), func(t *testing.T) {
			p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
			ctx := context.Background()
			db, err := Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{})
			if err != nil {
				t.Fatalf("free database: %v", err)
			}
			db.Close()
			startHolder(t, p, wal)
			_, err = Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{})
			if !errors.Is(err, ErrHeld) {
				t.Fatalf("held database: want ErrHeld, got %v", err)
			}
			if msg, ok := leaseProbe(p); msg == "" || !ok {
				t.Error("the lease probe saw nothing")
			}
			if procs := procHolders(p); len(procs) != 1 {
				t.Errorf("the /proc probe: got %v", procs)
			}
			if wal {
				if msg := lockProbe(p+"-shm", shmDMS, 1); msg == "" {
					t.Error("the WAL index probe saw nothing")
				}
			}
			ro, err := Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{ReadOnly: true})
			if err != nil {
				t.Fatalf("read-only open of a held database: %v", err)
			}
			defer ro.Close()
			if h, _ := ro.Holders(ctx); len(h) == 0 {
				t.Error("Holders saw nothing")
			}
		})
	}
}

// TestSQLiteTransactionInProgress: a lock taken by another process's
// transaction is seen by the lock-byte probe and makes BEGIN fail.
func TestSQLiteTransactionInProgress(t *testing.T) {
	p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
	ctx := context.Background()
	db, err := Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cmd := exec.Command("sqlite3", p)
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no sqlite3 command (.ci/run installs it): under CI=true this is a failure")
		}
		t.Skip("no sqlite3 command to hold a transaction")
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	fmt.Fprintln(stdin, "BEGIN EXCLUSIVE; SELECT 'ready';")
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("sqlite3: %s", line)
	}
	if msg := lockProbe(p, pendingByte, lockRange); msg == "" {
		t.Error("the lock-byte probe saw nothing")
	}
	if _, err := db.BeginWrite(ctx); !errors.Is(err, ErrHeld) {
		t.Fatalf("want ErrHeld, got %v", err)
	}
}

// restorePG restores a fixture dump into a new database owned by the role
// n8n, as n8n itself would have created it.
func restorePG(t *testing.T, s *pgtest.Server, db, dump string) {
	t.Helper()
	s.CreateDatabase(db, "n8n", "n8n-fixture-pw")
	if out, err := s.Psql(db, "-c", "SET ROLE n8n", "-f", dump); err != nil {
		t.Fatalf("restore %s: %v\n%s", dump, err, out)
	}
}

func pgConfig(s *pgtest.Server, db string) Config {
	return Config{Type: TypePostgres, Host: s.Host, Port: s.Port, Database: db, User: "n8n", password: func() string { return "n8n-fixture-pw" }, Schema: "public", ConnectTimeout: 5 * time.Second}
}

func TestPostgres(t *testing.T) {
	s := pgtest.Start(t)
	restorePG(t, s, "n8n240", fixtures+"n8n-2.40-postgres-gcm-fixture.sql")
	ctx := context.Background()
	db, err := Open(ctx, pgConfig(s, "n8n240"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Batch(ctx, db.SQL(), "user", []string{"id"}, []string{"mfaSecret", "mfaRecoveryCodes"}, nil, 10)
	if err != nil || len(rows) != 1 || !strings.HasPrefix(rows[0].Values[0], "obiouo47z8puchLC:") {
		t.Fatalf("user rows: %d, %v", len(rows), err)
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatalf("free database: %v", err)
	}
	// UpdateMany: one statement; a row whose value changed fails it all.
	creds, err := db.Batch(ctx, tx, "credentials_entity", []string{"id"}, []string{"data"}, nil, 10)
	if err != nil || len(creds) != 3 {
		t.Fatalf("credentials: %d, %v", len(creds), err)
	}
	var ch []Change
	for _, c := range creds {
		ch = append(ch, Change{Key: c.Key, Old: c.Values[0], New: "x" + c.Values[0]})
	}
	if err := db.UpdateMany(ctx, tx, "credentials_entity", []string{"id"}, "data", ch); err != nil {
		t.Fatalf("UpdateMany: %v", err)
	}
	if err := db.UpdateMany(ctx, tx, "credentials_entity", []string{"id"}, "data", ch[:1]); !errors.Is(err, ErrQuery) {
		t.Fatalf("UpdateMany on a changed row: want ErrQuery, got %v", err)
	}
	tx.Rollback()

	// Another session (n8n's pool) connected: refused, named.
	other, err := Open(ctx, pgConfig(s, "n8n240"), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginWrite(ctx); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "n8n-secrets") {
		t.Fatalf("another session: want ErrHeld naming it, got %v", err)
	}
	// A transaction holding a lock: NOWAIT fails at once.
	otx, err := other.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otx.ExecContext(ctx, `SELECT 1 FROM "credentials_entity" LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := db.BeginWrite(ctx); !errors.Is(err, ErrHeld) {
		t.Fatalf("a lock held: want ErrHeld, got %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("BeginWrite waited for the lock")
	}
	otx.Rollback()
	other.Close()

	// Unreachable: a closed port.
	cfg := pgConfig(s, "n8n240")
	cfg.Port = 1
	if _, err := Open(ctx, cfg, Options{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("closed port: want ErrUnavailable, got %v", err)
	}
	cfg = pgConfig(s, "nosuchdb")
	if _, err := Open(ctx, cfg, Options{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing database: want ErrConfig, got %v", err)
	}
}
