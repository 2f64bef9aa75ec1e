package rekey

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// BenchmarkSample: the check before start in process: open the database
// (one connection), run Sample's one query, decrypt, close.
func BenchmarkSample(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, cfg store.Config) {
		for b.Loop() {
			db, err := store.Open(ctx, cfg, store.Options{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			rep, err := Sample(ctx, db, n8ntest.Key)
			if err != nil || len(rep.Checked) < 3 || rep.Queries != 1 {
				b.Fatalf("sample: %v", err)
			}
			db.Close()
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		_, path := n8ntest.CopySQLite(b, n8ntest.SQLite2x)
		run(b, store.Config{Type: store.TypeSQLite, SQLitePath: path})
	})
	b.Run("postgres", func(b *testing.B) {
		s := pgtest.Start(b)
		n8ntest.RestorePostgres(b, s, n8ntest.Postgres2x, "sample")
		cfg, err := store.FromEnv(n8ntest.PostgresEnv(s, "sample"))
		if err != nil {
			b.Fatal(err)
		}
		run(b, cfg)
	})
}

// BenchmarkExecutionCount: verify's and rekey's count of the encrypted
// values inside executions, on SQLite: 1,000 executions of about 10 KB of
// flatted run data each (a node's output of 100 items), every one a
// manual execution of n8n 2.40 holding an encrypted session cookie (the
// worst case: every row passes the SQL filter and is parsed).
func BenchmarkExecutionCount(b *testing.B) {
	ctx := context.Background()
	_, path := n8ntest.CopySQLite(b, n8ntest.SQLite2x)
	conn := n8ntest.OpenSQLite(b, path)
	enc := n8ntest.Encrypter{DEKID: sqlite2xDEK.id, DEK: sqlite2xDEK.key}
	var items strings.Builder
	for i := range 100 {
		fmt.Fprintf(&items, `,{"json":"%d"},{"id":%d,"name":"item number %d","email":"user%d@example.com"}`, 24+2*i+1, i, i, i)
	}
	for id := range 1000 {
		data := `[{"startData":"1","resultData":"2","executionData":"3"},{},{"runData":"4"},{"contextData":"5","nodeExecutionStack":"6","metadata":"7","waitingExecution":"8","waitingExecutionSource":"9","runtimeData":"10"},{},{},[],{},{},{},{"version":1,"establishedAt":1767225600000,"source":"11","credentials":"12"},"manual","` +
			enc.Encrypt(b, `{"version":1,"identity":"cookie","metadata":{"source":"manual-execution"}}`) + `"` + items.String() + `]`
		conn.Exec(b, `INSERT INTO execution_data ("executionId", "workflowData", "data") VALUES (?, ?, ?)`, 10000+id, "{}", data)
	}
	conn.Close()
	db, err := store.Open(ctx, store.Config{Type: store.TypeSQLite, SQLitePath: path}, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for b.Loop() {
		ev, err := countExecutions(ctx, db, db.SQL())
		if err != nil || ev.Rows != 1000 || ev.Prefixed != 1000 {
			b.Fatalf("count: %+v, %v", ev, err)
		}
	}
}
