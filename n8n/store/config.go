// Package store opens n8n's database, SQLite or PostgreSQL, the way n8n
// does, from n8n's own variables, and gives the rest of the project a small
// interface over database/sql: quoted table names (DB_TABLE_PREFIX, the
// PostgreSQL schema), placeholders, batched reads, and transactions that
// refuse to start while another process (n8n) holds the database.
//
// Drivers are pure Go (modernc.org/sqlite; for PostgreSQL pgx/v5's protocol
// layer pgconn under a minimal database/sql driver, pgdriver.go), so the
// binary stays static. Errors never contain the password or any value read
// from the database; driver errors where credentials flow are replaced by a
// fixed message naming the step.
//
// n8n's variables, as its @n8n/config DatabaseConfig reads them
// (packages/@n8n/config/src/configs/database.config.ts): DB_TYPE (sqlite,
// the default, or postgresdb), DB_TABLE_PREFIX, DB_SQLITE_DATABASE (default
// database.sqlite, relative to <N8N_USER_FOLDER or HOME>/.n8n),
// DB_POSTGRESDB_{HOST,PORT,DATABASE,USER,PASSWORD,SCHEMA} (defaults
// localhost, 5432, n8n, postgres, "", public), DB_POSTGRESDB_SSL_{ENABLED,
// CA,CERT,KEY,REJECT_UNAUTHORIZED} (CA, CERT and KEY are a path or the PEM
// contents; SSL is on when ENABLED is true or any of them is set;
// REJECT_UNAUTHORIZED defaults to true) and
// DB_POSTGRESDB_CONNECTION_TIMEOUT (ms, default 20000). The _FILE forms of
// every one are resolved by n8n-secrets before this package sees the
// environment.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Database types, as DB_TYPE names them.
const (
	TypeSQLite   = "sqlite"
	TypePostgres = "postgresdb"
)

// Config says how to reach n8n's database. It holds the PostgreSQL
// password: never print it (Describe does not).
type Config struct {
	Type        string // TypeSQLite or TypePostgres
	TablePrefix string

	SQLitePath string // absolute

	Host, Database, User, Schema string
	Port                         int
	password                     func() string // hidden from %v
	SSL                          bool
	SSLCA, SSLCert, SSLKey       string // a path or PEM contents
	SSLRejectUnauthorized        bool
	ConnectTimeout               time.Duration
}

// ErrConfig is wrapped by every error about the variables.
var ErrConfig = errors.New("store: bad database settings")

// FromEnv reads n8n's database variables from env (values already
// resolved). Errors name the variable, never its value.
func FromEnv(env map[string]string) (Config, error) {
	c := Config{TablePrefix: env["DB_TABLE_PREFIX"]}
	switch t := env["DB_TYPE"]; t {
	case "", TypeSQLite:
		c.Type = TypeSQLite
	case TypePostgres:
		c.Type = TypePostgres
	case "mysqldb", "mariadb":
		return c, fmt.Errorf("%w: DB_TYPE: MySQL and MariaDB are not supported (n8n 2.0 removed them too)", ErrConfig)
	default:
		return c, fmt.Errorf("%w: DB_TYPE: must be sqlite or postgresdb", ErrConfig)
	}
	if !validIdent(c.TablePrefix, true) {
		return c, fmt.Errorf("%w: DB_TABLE_PREFIX: only letters, digits and _ are supported", ErrConfig)
	}
	if c.Type == TypeSQLite {
		name := env["DB_SQLITE_DATABASE"]
		if name == "" {
			name = "database.sqlite"
		}
		if !filepath.IsAbs(name) {
			folder, err := n8nFolder(env)
			if err != nil {
				return c, err
			}
			name = filepath.Join(folder, name)
		}
		c.SQLitePath = name
		return c, nil
	}
	c.Host = def(env["DB_POSTGRESDB_HOST"], "localhost")
	c.Database = def(env["DB_POSTGRESDB_DATABASE"], "n8n")
	c.User = def(env["DB_POSTGRESDB_USER"], "postgres")
	c.Schema = def(env["DB_POSTGRESDB_SCHEMA"], "public")
	pw := env["DB_POSTGRESDB_PASSWORD"]
	c.password = func() string { return pw }
	port, err := strconv.Atoi(def(env["DB_POSTGRESDB_PORT"], "5432"))
	if err != nil || port < 1 || port > 65535 {
		return c, fmt.Errorf("%w: DB_POSTGRESDB_PORT: not a port number", ErrConfig)
	}
	c.Port = port
	if !validIdent(c.Schema, false) {
		return c, fmt.Errorf("%w: DB_POSTGRESDB_SCHEMA: only letters, digits and _ are supported", ErrConfig)
	}
	ms, err := strconv.Atoi(def(env["DB_POSTGRESDB_CONNECTION_TIMEOUT"], "20000"))
	if err != nil || ms < 0 {
		return c, fmt.Errorf("%w: DB_POSTGRESDB_CONNECTION_TIMEOUT: not a number of milliseconds", ErrConfig)
	}
	c.ConnectTimeout = time.Duration(ms) * time.Millisecond
	c.SSLCA, c.SSLCert, c.SSLKey = env["DB_POSTGRESDB_SSL_CA"], env["DB_POSTGRESDB_SSL_CERT"], env["DB_POSTGRESDB_SSL_KEY"]
	enabled, err := parseBool(env, "DB_POSTGRESDB_SSL_ENABLED", false)
	if err != nil {
		return c, err
	}
	c.SSL = enabled || c.SSLCA != "" || c.SSLCert != "" || c.SSLKey != ""
	if c.SSLRejectUnauthorized, err = parseBool(env, "DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", true); err != nil {
		return c, err
	}
	return c, nil
}

// Describe names the database without its password: "sqlite /path" or
// "postgresdb user@host:port/database (schema s)".
func (c Config) Describe() string {
	if c.Type == TypeSQLite {
		return "sqlite " + c.SQLitePath
	}
	return fmt.Sprintf("postgresdb %s@%s:%d/%s (schema %s)", c.User, c.Host, c.Port, c.Database, c.Schema)
}

// Exists reports whether there is a database to look at: always for
// PostgreSQL (whether it answers is another matter), for SQLite when the
// file exists. n8n creates a missing SQLite file at its first start.
func (c Config) Exists() bool {
	if c.Type == TypePostgres {
		return true
	}
	_, err := os.Stat(c.SQLitePath)
	return err == nil
}

// n8nFolder is path.join(N8N_USER_FOLDER ?? HOME ?? cwd, ".n8n"), as n8n's
// getN8nFolder computes it.
func n8nFolder(env map[string]string) (string, error) {
	base, ok := env["N8N_USER_FOLDER"]
	if !ok {
		base, ok = env["HOME"]
	}
	if !ok || base == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("%w: cannot find n8n's user folder: set N8N_USER_FOLDER or DB_SQLITE_DATABASE", ErrConfig)
		}
		base = wd
	}
	return filepath.Join(base, ".n8n"), nil
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func parseBool(env map[string]string, name string, d bool) (bool, error) {
	switch strings.ToLower(env[name]) {
	case "":
		return d, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return d, fmt.Errorf("%w: %s: must be true or false", ErrConfig, name)
}

func validIdent(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
