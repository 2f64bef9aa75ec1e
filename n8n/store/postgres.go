package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

type pgDialect struct {
	schema, prefix string
	where          string // host:port/database, for messages
}

func openPostgres(ctx context.Context, cfg Config, opts Options) (*DB, error) {
	d := &pgDialect{schema: cfg.Schema, prefix: cfg.TablePrefix, where: fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)}
	// Every connection parameter is set here, from n8n's variables: none
	// comes from PG* variables or service files.
	kv := []string{
		"host=" + pgQuote(cfg.Host),
		"port=" + strconv.Itoa(cfg.Port),
		"dbname=" + pgQuote(cfg.Database),
		"user=" + pgQuote(cfg.User),
		"password=" + pgQuote(cfg.pw()),
		"sslmode=disable",
	}
	pc, err := pgconn.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("%w: postgres: the connection settings are invalid", ErrConfig)
	}
	pc.Fallbacks = nil
	pc.RuntimeParams["application_name"] = "n8n-secrets"
	pc.RuntimeParams["search_path"] = cfg.Schema
	if opts.ReadOnly {
		pc.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.ConnectTimeout > 0 {
		pc.ConnectTimeout = cfg.ConnectTimeout
	}
	if cfg.SSL {
		tc, err := tlsConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		pc.TLSConfig = tc
	}
	db := sql.OpenDB(&pgConnector{cfg: pc})
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, d.classify("connect", err)
	}
	return &DB{cfg: cfg, db: db, d: d}, nil
}

// pgQuote quotes a libpq keyword/value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// tlsConfig builds the TLS settings n8n's node-postgres would use: the CA,
// client certificate and key as a path or PEM contents, and the server's
// certificate and name verified unless DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED
// is false.
func tlsConfig(ctx context.Context, cfg Config) (*tls.Config, error) {
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if !cfg.SSLRejectUnauthorized {
		tc.InsecureSkipVerify = true //nolint:gosec // the user's explicit DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false
	}
	if cfg.SSLCA != "" {
		pem, err := pemOf(ctx, "DB_POSTGRESDB_SSL_CA", cfg.SSLCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: DB_POSTGRESDB_SSL_CA: no PEM certificate in it", ErrConfig)
		}
		tc.RootCAs = pool
	}
	if cfg.SSLCert != "" || cfg.SSLKey != "" {
		cert, err := pemOf(ctx, "DB_POSTGRESDB_SSL_CERT", cfg.SSLCert)
		if err != nil {
			return nil, err
		}
		key, err := pemOf(ctx, "DB_POSTGRESDB_SSL_KEY", cfg.SSLKey)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%w: DB_POSTGRESDB_SSL_CERT and DB_POSTGRESDB_SSL_KEY: not a matching PEM certificate and key", ErrConfig)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// pemOf returns v when it holds PEM, else the contents of the file it
// names (at most 1 MiB), read under ctx.
func pemOf(ctx context.Context, name, v string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	if v == "" {
		return nil, fmt.Errorf("%w: %s: missing", ErrConfig, name)
	}
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := os.Open(v)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil || len(r.b) > 1<<20 {
			return nil, fmt.Errorf("%w: %s: neither PEM nor a readable file of at most 1 MiB", ErrConfig, name)
		}
		return r.b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: reading the file: %v", ErrUnavailable, name, context.Cause(ctx))
	}
}

// pw returns the password ("" when none).
func (c Config) pw() string {
	if c.password == nil {
		return ""
	}
	return c.password()
}

func (d *pgDialect) placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (d *pgDialect) qualify(table string) string { return Quote(d.schema) + "." + Quote(table) }

func (d *pgDialect) tableExists(ctx context.Context, q Querier, table string) (bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2", d.schema, table)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}

// holders lists the other client sessions connected to this database.
func (d *pgDialect) holders(ctx context.Context, db *sql.DB) ([]string, error) {
	return d.sessions(ctx, db)
}

// sessions lists the other client sessions connected to this database.
// A role without pg_read_all_stats sees another role's sessions with
// backend_type (and the client's address) NULL: those count too, as long
// as a user is logged in on them (background processes such as autovacuum
// workers have none).
func (d *pgDialect) sessions(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), coalesce(host(client_addr), CASE WHEN backend_type IS NULL THEN 'an address hidden from this role' ELSE 'local socket' END)
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL)) ORDER BY pid`)
	if err != nil {
		return nil, d.classify("list sessions", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var pid int
		var user, app, addr string
		if err := rows.Scan(&pid, &user, &app, &addr); err != nil {
			return nil, d.classify("list sessions", err)
		}
		s := fmt.Sprintf("session %d of %s from %s", pid, user, addr)
		if app != "" {
			s += " (" + app + ")"
		}
		out = append(out, s)
	}
	return out, d.classify("list sessions", rows.Err())
}

// beginWrite finds the other sessions first, without locking anything: a
// rekey run by mistake against a live n8n refuses without ever making
// n8n's queries wait. While another session is connected it waits, still
// without a lock, up to sessionGrace (the sessions of a node stopped just
// before take a moment to go), then refuses. Once none is left it starts
// the transaction, locks n8n's tables (those of the schema that start
// with DB_TABLE_PREFIX) with NOWAIT (a transaction of n8n's in progress
// makes it fail at once), and looks again: a session that connected in
// between makes it release the locks at once and go back to waiting.
func (d *pgDialect) beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	deadline := time.Now().Add(sessionGrace)
	for {
		others, err := d.sessions(ctx, db)
		if err != nil {
			return nil, err
		}
		if len(others) == 0 {
			tx, late, err := d.lockTables(ctx, db)
			if err != nil || tx != nil {
				return tx, err
			}
			others = late
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: postgres %s: still connected after %v: %s", ErrHeld, d.where, sessionGrace, strings.Join(others, "; "))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: postgres %s: %s", ErrHeld, d.where, strings.Join(others, "; "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// lockTables starts the write transaction and locks n8n's tables with
// NOWAIT, then lists the other sessions once more: when one connected
// since the last look, it rolls back (releasing the locks at once) and
// returns the sessions and no transaction.
func (d *pgDialect) lockTables(ctx context.Context, db *sql.DB) (*sql.Tx, []string, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		return nil, nil, d.classify("begin", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND left(table_name, $2) = $3 ORDER BY table_name`, d.schema, len(d.prefix), d.prefix)
	if err != nil {
		tx.Rollback()
		return nil, nil, d.classify("list tables", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			tx.Rollback()
			return nil, nil, d.classify("list tables", err)
		}
		tables = append(tables, Quote(d.schema)+"."+t)
	}
	rows.Close()
	if len(tables) > 0 {
		if _, err := tx.ExecContext(ctx, "LOCK TABLE "+strings.Join(tables, ", ")+" IN ACCESS EXCLUSIVE MODE NOWAIT"); err != nil {
			tx.Rollback()
			return nil, nil, d.classify("lock n8n's tables", err)
		}
	}
	others, err := d.sessions(ctx, tx)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	if len(others) > 0 {
		tx.Rollback()
		return nil, others, nil
	}
	return tx, nil, nil
}

// sessionGrace is how long a rekey waits for other sessions to close
// before it refuses: the sessions of a node stopped just before.
const sessionGrace = 5 * time.Second

// classify keeps the SQLSTATE and PostgreSQL's message for query errors
// (they name relations and constraints, not bound values) and replaces
// everything about connecting with a fixed message.
func (d *pgDialect) classify(step string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "28P01" || pe.Code == "28000":
			return fmt.Errorf("%w: postgres %s: %s: the server refused the user or password (SQLSTATE %s)", ErrAuth, d.where, step, pe.Code)
		case pe.Code == "3D000":
			return fmt.Errorf("%w: postgres %s: %s: the database does not exist", ErrConfig, d.where, step)
		case pe.Code == "55P03":
			return fmt.Errorf("%w: postgres %s: %s: another session holds a lock (SQLSTATE 55P03)", ErrHeld, d.where, step)
		case pe.Code == "42501":
			return fmt.Errorf("%w: postgres %s: %s: permission denied (SQLSTATE 42501)", ErrAuth, d.where, step)
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "57P03" || pe.Code == "53300" || pe.Code == "57P01":
			return fmt.Errorf("%w: postgres %s: %s: the server is not accepting connections (SQLSTATE %s)", ErrUnavailable, d.where, step, pe.Code)
		}
		return fmt.Errorf("%w: postgres %s: %s: %s (SQLSTATE %s)", ErrQuery, d.where, step, pe.Message, pe.Code)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		var tlsErr *tls.CertificateVerificationError
		if errors.As(err, &tlsErr) {
			return fmt.Errorf("%w: postgres %s: %s: the server's TLS certificate was not accepted", ErrConfig, d.where, step)
		}
		return fmt.Errorf("%w: postgres %s: %s: no answer", ErrUnavailable, d.where, step)
	}
	if errors.Is(err, sql.ErrTxDone) || errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: postgres %s: %s: the connection was lost", ErrUnavailable, d.where, step)
	}
	return fmt.Errorf("%w: postgres %s: %s: failed", ErrQuery, d.where, step)
}
