package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the sessions standing in for n8n and the observer

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

// TestPostgresRefusalBlocksNothing (issue 19, item 6): a rekey --apply run
// by mistake against a live n8n finds n8n's session and refuses without
// ever locking n8n's tables: n8n's queries are never made to wait. Before,
// it took ACCESS EXCLUSIVE on every table and then waited up to 5 s for
// the sessions to go, stalling n8n's queries the whole time.
//
// Asserted on PostgreSQL's own view, not on timing: an observer connected
// to another database watches pg_locks for as long as BeginWrite runs (no
// relation lock held by the rekey's session, no lock request waiting),
// and the session standing in for n8n queries n8n's tables with
// lock_timeout set, so that a query that would wait on a lock fails with
// SQLSTATE 55P03 instead.
//
// n8n's session logs in as n8n's role (the usual case), or as another
// role, whose sessions a role without pg_read_all_stats sees with
// backend_type NULL: before, those were not seen at all, and the write
// went ahead under a live n8n.
func TestPostgresRefusalBlocksNothing(t *testing.T) {
	s := pgtest.Start(t)
	restorePG(t, s, "n8n240", fixtures+"n8n-2.40-postgres-gcm-fixture.sql")
	for _, role := range []string{"n8n", pgtest.Superuser} {
		t.Run(role, func(t *testing.T) { refusalBlocksNothing(t, s, role) })
	}
}

func refusalBlocksNothing(t *testing.T, s *pgtest.Server, role string) {
	ctx := context.Background()
	n8nPool, err := sql.Open("pgx", s.DSN("n8n240", role)+"&application_name=n8n")
	if err != nil {
		t.Fatal(err)
	}
	defer n8nPool.Close()
	n8nSession, err := n8nPool.Conn(ctx) // one session, kept for the whole test
	if err != nil {
		t.Fatal(err)
	}
	defer n8nSession.Close()
	if _, err := n8nSession.ExecContext(ctx, "SET lock_timeout = '100ms'"); err != nil {
		t.Fatal(err)
	}
	observer, err := sql.Open("pgx", s.DSN("postgres", "")+"&application_name=observer")
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close()

	db, err := Open(ctx, pgConfig(s, "n8n240"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	type outcome struct {
		tx  *sql.Tx
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		tx, err := db.BeginWrite(ctx)
		done <- outcome{tx, err}
	}()
	var res outcome
	locks, waits, polls := 0, 0, 0
	for running := true; running; {
		select {
		case res = <-done:
			running = false
		default:
		}
		polls++
		var held, waiting int
		err := observer.QueryRowContext(ctx, `SELECT
  count(*) FILTER (WHERE l.granted AND a.application_name = 'n8n-secrets' AND l.locktype = 'relation' AND l.mode <> 'AccessShareLock'),
  count(*) FILTER (WHERE NOT l.granted)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.datname = 'n8n240'`).Scan(&held, &waiting)
		if err != nil {
			t.Fatal(err)
		}
		locks += held
		waits += waiting
		// n8n's own query: a session of n8n reading its tables.
		var n int
		if err := n8nSession.QueryRowContext(ctx, `SELECT count(*) FROM "credentials_entity"`).Scan(&n); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "55P03" {
				waits++
				continue
			}
			t.Fatal(err)
		}
	}
	if res.err == nil {
		res.tx.Rollback()
	}
	if locks > 0 || waits > 0 {
		t.Fatalf("while BeginWrite ran, the rekey's session held %d lock(s) on n8n's tables (summed over %d looks), and a query waited %d time(s)", locks, polls, waits)
	}
	if !errors.Is(res.err, ErrHeld) || !strings.Contains(res.err.Error(), "(n8n)") {
		t.Fatalf("want ErrHeld naming n8n's session, got %v", res.err)
	}
	if polls < 2 {
		t.Fatalf("looked %d time(s) only", polls)
	}

	// Once n8n is gone, the write starts and locks n8n's tables.
	n8nSession.Close()
	n8nPool.Close()
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatalf("after n8n left: %v", err)
	}
	defer tx.Rollback()
	var held int
	if err := observer.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE a.datname = 'n8n240' AND a.application_name = 'n8n-secrets' AND l.mode = 'AccessExclusiveLock' AND l.locktype = 'relation'`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held == 0 {
		t.Fatal("the write transaction does not lock n8n's tables")
	}
}
