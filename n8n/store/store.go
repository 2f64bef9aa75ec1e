package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Errors, for callers to classify (exit codes): every error Open, Begin and
// the queries return wraps one of these or ErrConfig.
var (
	// ErrUnavailable: the database did not answer (network, refused
	// connection, timeout). Transient.
	ErrUnavailable = errors.New("store: database unreachable")
	// ErrAuth: the database refused the credentials.
	ErrAuth = errors.New("store: authentication failed")
	// ErrHeld: another process holds the database (n8n is running).
	ErrHeld = errors.New("store: the database is in use by another process")
	// ErrQuery: a statement failed (missing table, constraint, …).
	ErrQuery = errors.New("store: query failed")
	// ErrInterrupted: a write to the database was interrupted and left
	// what only a writer may repair (SQLite's hot rollback journal); a
	// read-only open reads nothing until then.
	ErrInterrupted = errors.New("store: an interrupted write must be rolled back first")
)

// Querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// dialect is what differs between SQLite and PostgreSQL.
type dialect interface {
	// placeholder returns the n-th (1-based) bind parameter.
	placeholder(n int) string
	// qualify returns the quoted, schema-qualified name of a table whose
	// prefixed name is given.
	qualify(table string) string
	// tableExists reports whether the prefixed table exists.
	tableExists(ctx context.Context, q Querier, table string) (bool, error)
	// beginWrite starts the transaction a rekey writes in, after making
	// sure no other process holds the database; it returns ErrHeld when one
	// does.
	beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error)
	// holders describes the other processes or sessions using the
	// database, for a dry run's warning; nil when none is seen.
	holders(ctx context.Context, db *sql.DB) ([]string, error)
	// classify maps a driver error to one of the package's sentinels,
	// without the driver's text where credentials may flow.
	classify(step string, err error) error
}

// DB is an open n8n database.
type DB struct {
	cfg Config
	db  *sql.DB
	d   dialect
}

// Options of Open.
type Options struct {
	// ReadOnly opens SQLite read-only (verify, dry runs, the pre-start
	// check); PostgreSQL sessions are then read-only too.
	ReadOnly bool
	// AssumeStopped lets a write open a SQLite database whose holders
	// cannot all be seen: the lease probe, the only one that sees an idle
	// n8n of another container, needs the file's owner or CAP_LEASE. The
	// operator says every node is stopped.
	AssumeStopped bool
}

// Open connects to the database cfg names and checks that it answers,
// under ctx. A SQLite file that does not exist is an error (it is never
// created).
func Open(ctx context.Context, cfg Config, opts Options) (*DB, error) {
	switch cfg.Type {
	case TypeSQLite:
		return openSQLite(ctx, cfg, opts)
	case TypePostgres:
		return openPostgres(ctx, cfg, opts)
	}
	return nil, fmt.Errorf("%w: DB_TYPE: must be sqlite or postgresdb", ErrConfig)
}

// Close closes the connections.
func (d *DB) Close() error { return d.db.Close() }

// Config returns the configuration the database was opened with.
func (d *DB) Config() Config { return d.cfg }

// SQL returns the underlying pool, for reads outside a transaction.
func (d *DB) SQL() *sql.DB { return d.db }

// Table returns the quoted name of n8n's table name, with DB_TABLE_PREFIX
// and, on PostgreSQL, the schema.
func (d *DB) Table(name string) string { return d.d.qualify(d.cfg.TablePrefix + name) }

// P returns the n-th (1-based) bind parameter: ? or $n.
func (d *DB) P(n int) string { return d.d.placeholder(n) }

// HasTable reports whether n8n's table name exists (older versions lack
// the newer tables).
func (d *DB) HasTable(ctx context.Context, q Querier, name string) (bool, error) {
	ok, err := d.d.tableExists(ctx, q, d.cfg.TablePrefix+name)
	if err != nil {
		return false, d.d.classify("look up table "+name, err)
	}
	return ok, nil
}

// BeginRead starts a read-only transaction: one consistent view of the
// database for a verification or a dry run.
func (d *DB) BeginRead(ctx context.Context) (*sql.Tx, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: d.readIsolation()})
	if err != nil {
		return nil, d.d.classify("begin", err)
	}
	return tx, nil
}

func (d *DB) readIsolation() sql.IsolationLevel {
	if d.cfg.Type == TypePostgres {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault
}

// BeginWrite starts the one transaction a rekey writes in. It fails with
// an error wrapping ErrHeld, naming what it found, when another process
// holds the database: on SQLite a process with the file open for writing
// (a lease, the WAL index's lock, /proc, or SQLite's own lock); on
// PostgreSQL another session connected to the database, or a lock on one
// of n8n's tables (taken with NOWAIT).
func (d *DB) BeginWrite(ctx context.Context) (*sql.Tx, error) {
	return d.d.beginWrite(ctx, d.db)
}

// Holders describes the other processes or sessions using the database,
// as BeginWrite would find them, without locking anything.
func (d *DB) Holders(ctx context.Context) ([]string, error) {
	return d.d.holders(ctx, d.db)
}

// Classify maps an error of a query run on this database to the package's
// sentinels, naming step; it never keeps the driver's text for connection
// errors.
func (d *DB) Classify(step string, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrUnavailable, ErrAuth, ErrHeld, ErrQuery, ErrConfig, ErrInterrupted} {
		if errors.Is(err, s) {
			return err
		}
	}
	return d.d.classify(step, err)
}

// Quote quotes an identifier (a column name) for both dialects.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Row is one row read by Batch: the key columns' values, then the value
// columns' (NULL as "").
type Row struct {
	Key    []any
	Values []string
}

// Batch reads up to limit rows of table (n8n's name, unprefixed), ordered
// by the key columns, after the row whose key is after (nil for the first
// batch): keyset pagination, so that memory stays bounded whatever the
// table's size. Value columns are read as text.
func (d *DB) Batch(ctx context.Context, q Querier, table string, key, cols []string, after []any, limit int) ([]Row, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	all := append(append([]string{}, key...), cols...)
	for i, c := range all {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Quote(c))
	}
	b.WriteString(" FROM " + d.Table(table))
	args := []any{}
	if after != nil {
		b.WriteString(" WHERE (")
		for i, c := range key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Quote(c))
		}
		b.WriteString(") > (")
		for i := range key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.P(i + 1))
		}
		b.WriteString(")")
		args = append(args, after...)
	}
	b.WriteString(" ORDER BY ")
	for i, c := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Quote(c))
	}
	fmt.Fprintf(&b, " LIMIT %d", limit)
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, d.d.classify("read "+table, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		keys := make([]any, len(key))
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, 0, len(all))
		for i := range keys {
			dest = append(dest, &keys[i])
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, d.d.classify("read "+table, err)
		}
		r := Row{Key: keys, Values: make([]string, len(cols))}
		for i, v := range vals {
			r.Values[i] = v.String
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.d.classify("read "+table, err)
	}
	return out, nil
}

// Update sets column col of the row of table whose key columns hold key,
// only if it still holds old (a compare-and-set: a row changed behind our
// back is an error, not overwritten).
func (d *DB) Update(ctx context.Context, q Querier, table string, keyCols []string, key []any, col, old, new string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "UPDATE %s SET %s = %s WHERE ", d.Table(table), Quote(col), d.P(1))
	args := []any{new}
	for i, c := range keyCols {
		fmt.Fprintf(&b, "%s = %s AND ", Quote(c), d.P(len(args)+1))
		args = append(args, key[i])
	}
	fmt.Fprintf(&b, "%s = %s", Quote(col), d.P(len(args)+1))
	args = append(args, old)
	res, err := q.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return d.d.classify("update "+table, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != 1 {
		return fmt.Errorf("%w: update %s: the row changed while the rekey ran", ErrQuery, table)
	}
	return nil
}

// Change is one compare-and-set of UpdateMany: the row's key, the value it
// must still hold, and the new one.
type Change struct {
	Key      []any
	Old, New string
}

// UpdateMany applies changes to column col of table, each a
// compare-and-set as in Update; any row that no longer holds its old value
// makes it fail. On PostgreSQL it is one statement per call (a join on a
// VALUES list), so that a batch costs one round trip; on SQLite, local, it
// is one statement per row.
func (d *DB) UpdateMany(ctx context.Context, q Querier, table string, keyCols []string, col string, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	if d.cfg.Type != TypePostgres {
		for _, c := range changes {
			if err := d.Update(ctx, q, table, keyCols, c.Key, col, c.Old, c.New); err != nil {
				return err
			}
		}
		return nil
	}
	var b strings.Builder
	b.WriteString("WITH v(")
	for i := range keyCols {
		fmt.Fprintf(&b, "k%d, ", i)
	}
	b.WriteString("old, new) AS (VALUES ")
	args := make([]any, 0, len(changes)*(len(keyCols)+2))
	for i, c := range changes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j := range keyCols {
			args = append(args, keyText(c.Key[j]))
			fmt.Fprintf(&b, "CAST(%s AS TEXT), ", d.P(len(args)))
		}
		args = append(args, c.Old, c.New)
		fmt.Fprintf(&b, "CAST(%s AS TEXT), CAST(%s AS TEXT))", d.P(len(args)-1), d.P(len(args)))
	}
	fmt.Fprintf(&b, ") UPDATE %s AS t SET %s = v.new FROM v WHERE ", d.Table(table), Quote(col))
	for i, k := range keyCols {
		fmt.Fprintf(&b, "CAST(t.%s AS TEXT) = v.k%d AND ", Quote(k), i)
	}
	fmt.Fprintf(&b, "t.%s = v.old", Quote(col))
	res, err := q.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return d.d.classify("update "+table, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != int64(len(changes)) {
		return fmt.Errorf("%w: update %s: %d of %d rows changed while the rekey ran", ErrQuery, table, int64(len(changes))-n, len(changes))
	}
	return nil
}

// keyText is a key column's value as text, for comparing with CAST(… AS TEXT).
func keyText(v any) string {
	switch k := v.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	return fmt.Sprint(v)
}
