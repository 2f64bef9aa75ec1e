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
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

type pgDialect struct {
	schema, prefix string
	where          string // host:port/database, for messages
}

func openPostgres(ctx context.Context, cfg Config, opts Options) (*DB, error) {
	d := &pgDialect{schema: cfg.Schema, prefix: cfg.TablePrefix, where: fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)}
	// Every connection parameter is set here, from n8n's variables and the
	// few libpq variables node-postgres reads (see FromEnv): none comes from
	// this process's PG* variables or a service file.
	pc, err := pgTemplate()
	if err != nil {
		return nil, err
	}
	pc.Host, pc.Port, pc.Database, pc.User = cfg.Host, uint16(cfg.Port), cfg.Database, cfg.User
	pc.Password, err = cfg.postgresPassword(ctx)
	if err != nil {
		return nil, err
	}
	pc.Fallbacks = nil
	// Tables are named with their schema: no search_path (a startup
	// parameter would fold its case).
	pc.RuntimeParams = map[string]string{"application_name": "n8n-secrets"}
	if cfg.Options != "" {
		pc.RuntimeParams["options"] = cfg.Options
	}
	if opts.ReadOnly {
		pc.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// node-postgres waits forever when n8n's timeout is 0, as pgconn does.
	pc.ConnectTimeout = cfg.ConnectTimeout
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
		err = d.classify("connect", err)
		if cfg.SSLCA != "" && errors.Is(err, ErrConfig) && !strings.Contains(cfg.SSLCA, "-----BEGIN CERTIFICATE-----") {
			err = fmt.Errorf("%w; DB_POSTGRESDB_SSL_CA holds no PEM certificate, so no CA is trusted (as in n8n, which gives the value to TLS as it is: to give a file, set DB_POSTGRESDB_SSL_CA_FILE)", err)
		}
		return nil, err
	}
	return &DB{cfg: cfg, db: db, d: d}, nil
}

var (
	pgTemplateOnce sync.Once
	pgTemplateConf *pgconn.Config
	pgTemplateErr  error
)

// pgTemplate returns a copy of a pgconn.Config parsed once with none of
// libpq's PG* variables in this process's environment: pgconn's
// ParseConfig reads every one of them (PGSERVICE makes it read a service
// file, and fail when there is none; PGTARGETSESSIONATTRS, PGCHANNELBINDING,
// PGSSLNEGOTIATION and others change how it connects), while n8n's driver,
// node-postgres, reads only the few that FromEnv applies, from n8n's
// environment, not ours. The variables are taken away from the process's
// environment only while the template is parsed, under a lock, and put
// back; nothing else in this program reads them. The caller sets every
// field that differs per connection.
func pgTemplate() (*pgconn.Config, error) {
	pgTemplateOnce.Do(func() {
		pgEnvMu.Lock()
		defer pgEnvMu.Unlock()
		var saved [][2]string
		for _, kv := range os.Environ() {
			if name, v, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PG") {
				saved = append(saved, [2]string{name, v})
				os.Unsetenv(name)
			}
		}
		defer func() {
			for _, kv := range saved {
				os.Setenv(kv[0], kv[1])
			}
		}()
		// A password, so that ParseConfig reads no password file either.
		pgTemplateConf, pgTemplateErr = pgconn.ParseConfig("host=localhost port=5432 dbname=n8n user=postgres password=unused sslmode=disable")
	})
	if pgTemplateErr != nil {
		return nil, fmt.Errorf("%w: postgres: the connection settings are invalid", ErrConfig)
	}
	return pgTemplateConf.Copy(), nil
}

// pgEnvMu is held while the process's PG* variables are away.
var pgEnvMu sync.Mutex

// tlsConfig builds the TLS settings n8n's node-postgres uses: the CA,
// client certificate and key are PEM contents, given to Node.js's TLS as
// they are (a path is not read: Node.js finds no certificate in it); a CA
// replaces the default ones, which are otherwise the system's plus
// NODE_EXTRA_CA_CERTS; the server's certificate and name are verified
// unless verification is off (DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false,
// or NODE_TLS_REJECT_UNAUTHORIZED=0 when n8n passes ssl: true). The name
// checked is the host's, an IP address's too, as Node.js does.
func tlsConfig(ctx context.Context, cfg Config) (*tls.Config, error) {
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if !cfg.SSLRejectUnauthorized {
		tc.InsecureSkipVerify = true //nolint:gosec // the user's explicit DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false
	}
	switch {
	case cfg.SSLCA != "":
		// Node.js adds the certificates it finds, none for a path: then
		// nothing is trusted, as in n8n.
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(cfg.SSLCA))
		tc.RootCAs = pool
	case cfg.SSLExtraCAFile != "":
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		b, err := readSmallFile(ctx, cfg.SSLExtraCAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: NODE_EXTRA_CA_CERTS: %v", ErrConfig, err)
		}
		pool.AppendCertsFromPEM(b)
		tc.RootCAs = pool
	}
	if cfg.SSLCert != "" || cfg.SSLKey != "" {
		pair, err := tls.X509KeyPair([]byte(cfg.SSLCert), []byte(cfg.SSLKey))
		if err != nil {
			return nil, fmt.Errorf("%w: DB_POSTGRESDB_SSL_CERT and DB_POSTGRESDB_SSL_KEY: not a matching PEM certificate and key (n8n passes their values to TLS as PEM: to give files, use DB_POSTGRESDB_SSL_CERT_FILE and DB_POSTGRESDB_SSL_KEY_FILE)", ErrConfig)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// readSmallFile returns the contents of the file path names (at most 1
// MiB, a regular file), read under ctx.
func readSmallFile(ctx context.Context, path string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			ch <- result{nil, fmt.Errorf("not a regular file")}
			return
		}
		b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
		if err == nil && len(b) > maxFileSize {
			err = fmt.Errorf("larger than %d bytes", maxFileSize)
		}
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%s: cannot be read", path)
		}
		return r.b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: reading it did not finish: %v", path, context.Cause(ctx))
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
		return fmt.Errorf("%w: postgres %s: %s: %s", ErrUnavailable, d.where, step, netProblem(err))
	}
	if errors.Is(err, sql.ErrTxDone) || errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: postgres %s: %s: the connection was lost", ErrUnavailable, d.where, step)
	}
	return fmt.Errorf("%w: postgres %s: %s: failed", ErrQuery, d.where, step)
}

// netProblem says what happened to a connection that failed, from the
// error's kind alone (its text may quote the server): refused, timed out,
// the name did not resolve, …
func netProblem(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "stopped before the server answered"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "the host name does not resolve (DNS: no such host)"
	case errors.As(err, &dns) && dns.IsTimeout:
		return "the DNS lookup of the host name timed out"
	case errors.As(err, &dns):
		return "the DNS lookup of the host name failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens at that address and port)"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out: the server did not answer"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection"
	}
	return "the connection failed"
}
