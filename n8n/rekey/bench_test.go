package rekey

import (
	"context"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/pgtest"
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
