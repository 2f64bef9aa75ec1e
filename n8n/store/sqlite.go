package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type sqliteDialect struct {
	path     string
	readOnly bool
	ro       readOnlyOpen // how a read-only open keeps SQLite from writing
}

func openSQLite(ctx context.Context, cfg Config, opts Options) (*DB, error) {
	st, err := os.Stat(cfg.SQLitePath)
	if err != nil {
		return nil, fmt.Errorf("%w: sqlite: %s does not exist or cannot be read", ErrConfig, cfg.SQLitePath)
	}
	if !st.Mode().IsRegular() {
		// SQLite would block in open(2) on a FIFO, whatever ctx says.
		return nil, fmt.Errorf("%w: sqlite: %s is not a regular file", ErrConfig, cfg.SQLitePath)
	}
	d := &sqliteDialect{path: cfg.SQLitePath, readOnly: opts.ReadOnly}
	if opts.ReadOnly {
		ro, err := callCtx(ctx, func() (readOnlyOpen, error) { return planReadOnly(cfg.SQLitePath) })
		if err != nil {
			return nil, err
		}
		d.ro = ro
	} else {
		// Before this process opens the file for writing: see sqliteHolders.
		h, leased := sqliteHoldersProbed(d.path, true)
		if len(h) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrHeld, strings.Join(h, "; "))
		}
		if !leased && !opts.AssumeStopped {
			return nil, fmt.Errorf("%w: sqlite: cannot tell whether n8n has %s open: the check needs a file lease, which only the file's owner (uid %d) or a process with CAP_LEASE may take, on a local file system; run as that user, or stop every node and pass --assume-stopped",
				ErrHeld, cfg.SQLitePath, ownerOf(st))
		}
	}
	db, err := sql.Open("sqlite", d.dsn())
	if err != nil {
		return nil, fmt.Errorf("%w: sqlite: open %s", ErrConfig, cfg.SQLitePath)
	}
	// One connection: a transaction and the reads around it share it, and
	// no second connection of ours can block the first.
	db.SetMaxOpenConns(1)
	if err := pingSQLite(ctx, db); err != nil {
		return nil, d.classify("open "+cfg.SQLitePath, err)
	}
	return &DB{cfg: cfg, db: db, d: d}, nil
}

// pingSQLite opens the first connection, under ctx: SQLite's open(2) and
// first reads do not watch ctx, and a file on a mount that stopped
// answering blocks them. When ctx ends first, the connection is left to
// finish in the background, closed once it does, and db is unusable.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	done := make(chan error, 1)
	go func() { done <- db.PingContext(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			db.Close()
		}
		return err
	case <-ctx.Done():
		go func() {
			<-done
			db.Close()
		}()
		return ctx.Err()
	}
}

// dsn is a file: URI (so that the database file is never created: mode ro
// or rw), with no busy timeout (a lock held by another process fails at
// once) and transactions that start EXCLUSIVE when writing. A read-only
// open adds what planReadOnly decided: immutable=1 or readonly_shm=1.
func (d *sqliteDialect) dsn() string {
	mode := "rw"
	q := url.Values{}
	if d.readOnly {
		mode = "ro"
		switch d.ro {
		case roImmutable:
			q.Set("immutable", "1")
		case roSharedIndex:
			q.Set("readonly_shm", "1")
		}
	} else {
		q.Set("_txlock", "exclusive")
	}
	q.Set("mode", mode)
	q.Add("_pragma", "busy_timeout(0)")
	path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(d.path)
	return "file:" + path + "?" + q.Encode()
}

func (d *sqliteDialect) placeholder(int) string { return "?" }

func (d *sqliteDialect) qualify(table string) string { return Quote(table) }

func (d *sqliteDialect) tableExists(ctx context.Context, q Querier, table string) (bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

func (d *sqliteDialect) holders(_ context.Context, _ *sql.DB) ([]string, error) {
	return sqliteHolders(d.path, d.readOnly), nil
}

// beginWrite checks the file for other processes again (see
// sqliteHolders; Open took the lease before this process opened the file),
// then starts an EXCLUSIVE transaction with no busy timeout, so that a
// process that holds a lock right now makes it fail instead of waiting.
func (d *sqliteDialect) beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	if d.readOnly {
		return nil, fmt.Errorf("%w: sqlite: opened read-only", ErrConfig)
	}
	if h := sqliteHolders(d.path, false); len(h) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrHeld, strings.Join(h, "; "))
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, d.classify("begin exclusive transaction", err)
	}
	return tx, nil
}

func (d *sqliteDialect) classify(step string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: sqlite: %s: %v", ErrUnavailable, step, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if se.Code() == sqlite3.SQLITE_READONLY_ROLLBACK {
			return fmt.Errorf("%w: sqlite: %s: %s", ErrInterrupted, step, hotJournalText(d.path))
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: sqlite: %s: the database is locked by another process", ErrHeld, step)
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY:
			return fmt.Errorf("%w: sqlite: %s: cannot open the file with the access needed", ErrConfig, step)
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%w: sqlite: %s: not a valid database file", ErrConfig, step)
		}
	}
	// SQLite's own messages name tables and columns, never values bound
	// as parameters.
	return fmt.Errorf("%w: sqlite: %s: %v", ErrQuery, step, err)
}

// ownerOf returns the uid owning the file st describes, or -1.
func ownerOf(st os.FileInfo) int {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(sys.Uid)
	}
	return -1
}
