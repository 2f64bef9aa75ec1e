package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
)

func listDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestSQLiteReadOnlyPlan: how a read-only open is made for each state of
// the files beside a database, and that the open reads the WAL's commits
// and leaves the folder as it was. The strace proof is in the root
// package (TestReadOnlyCommandsWriteNothing).
func TestSQLiteReadOnlyPlan(t *testing.T) {
	ctx := context.Background()
	count := func(t *testing.T, p string) (int, error) {
		db, err := Open(ctx, Config{Type: TypeSQLite, SQLitePath: p}, Options{ReadOnly: true})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		var n int
		err = db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM credentials_entity`).Scan(&n)
		return n, err
	}
	wal := func(t *testing.T, p string) {
		db, err := sql.Open("sqlite", "file:"+p+"?mode=rw")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("rollback journal", func(t *testing.T) {
		p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
		if m, err := planReadOnly(p); m != roPlain || err != nil {
			t.Fatalf("got %v, %v", m, err)
		}
	})
	t.Run("wal closed cleanly", func(t *testing.T) {
		p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
		wal(t, p)
		if m, err := planReadOnly(p); m != roImmutable || err != nil {
			t.Fatalf("got %v, %v", m, err)
		}
		before := listDir(t, dirOf(p))
		if n, err := count(t, p); err != nil || n == 0 {
			t.Fatalf("read: %d, %v", n, err)
		}
		if after := listDir(t, dirOf(p)); after != before {
			t.Fatalf("the open created files: %s -> %s", before, after)
		}
	})
	t.Run("wal held, with a commit in the WAL", func(t *testing.T) {
		p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
		wal(t, p)
		startHolder(t, p, true)
		w, err := sql.Open("sqlite", "file:"+p+"?mode=rw&_pragma=wal_autocheckpoint(0)")
		if err != nil {
			t.Fatal(err)
		}
		n0, _ := count(t, p)
		if _, err := w.Exec(`INSERT INTO credentials_entity (id, name, data, type) SELECT id || 'x', name, data, type FROM credentials_entity LIMIT 1`); err != nil {
			t.Fatal(err)
		}
		w.Close() // the holder keeps the WAL: no checkpoint
		if m, err := planReadOnly(p); m != roSharedIndex || err != nil {
			t.Fatalf("got %v, %v", m, err)
		}
		if n, err := count(t, p); err != nil || n != n0+1 {
			t.Fatalf("the WAL's commit is not read: %d rows (before %d), %v", n, n0, err)
		}
	})
	t.Run("wal with commits but no index", func(t *testing.T) {
		p := copyFixture(t, "n8n-1.123-sqlite-mfa-fixture.sqlite")
		wal(t, p)
		if err := os.WriteFile(p+"-wal", []byte("not empty"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := listDir(t, dirOf(p))
		_, err := count(t, p)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "-shm") || !strings.Contains(err.Error(), "start n8n once") {
			t.Fatalf("want an error naming the missing index and what to do, got %v", err)
		}
		if after := listDir(t, dirOf(p)); after != before {
			t.Fatalf("files created: %s -> %s", before, after)
		}
	})
}

func dirOf(p string) string { return p[:strings.LastIndexByte(p, '/')] }
