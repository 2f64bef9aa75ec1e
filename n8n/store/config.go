// Package store opens n8n's database, SQLite or PostgreSQL, the way n8n
// does, from n8n's own variables read as n8n reads them (package n8nenv),
// and gives the rest of the project a small interface over database/sql:
// quoted table names (DB_TABLE_PREFIX, the PostgreSQL schema),
// placeholders, batched reads, and transactions that refuse to start while
// another process (n8n) holds the database.
//
// Drivers are pure Go (modernc.org/sqlite; for PostgreSQL pgx/v5's protocol
// layer pgconn under a minimal database/sql driver, pgdriver.go), so the
// binary stays static. Errors never contain the password or any value read
// from the database; driver errors where credentials flow are replaced by a
// fixed message naming the step.
//
// What n8n reads, and how, is in docs/rekey.md's table of variables, each
// row with the source file of n8n 1.123 and 2.40 and a test: n8n's
// @n8n/config fields (DatabaseConfig, database.config.ts), n8n's
// connection options (@n8n/db, db-connection-options.ts), node-postgres'
// own defaults and PG* variables (pg/lib/connection-parameters.js,
// defaults.js, client.js, pgpass), and Node.js's TLS variables
// (NODE_EXTRA_CA_CERTS, NODE_TLS_REJECT_UNAUTHORIZED).
package store

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
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
	password                     func() string // hidden from %v; "" when none
	// passFile is the pgpass file node-postgres reads when the password is
	// empty and PGPASSWORD unset: PGPASSFILE, else $HOME/.pgpass; "" when
	// it reads none.
	passFile     string
	passDeescape bool // pgpass unescapes \: and \\ unless PGPASS_NO_DEESCAPE is set
	// Options is the startup "options" node-postgres sends: PGOPTIONS
	// (n8n sets none of its own).
	Options                string
	SSL                    bool
	SSLCA, SSLCert, SSLKey string // PEM contents, as n8n passes them to TLS
	SSLRejectUnauthorized  bool
	// SSLExtraCAFile is NODE_EXTRA_CA_CERTS: CA certificates Node.js adds
	// to its default ones, which n8n trusts when DB_POSTGRESDB_SSL_CA is
	// empty.
	SSLExtraCAFile string
	ConnectTimeout time.Duration // 0: none, as node-postgres

	// Ignored lists n8n's variables whose value n8n ignores (it warns and
	// keeps its default), as "NAME: why": reported, never an error.
	Ignored []string
}

// ErrConfig is wrapped by every error about the variables.
var ErrConfig = errors.New("store: bad database settings")

// FromEnv reads n8n's database variables from env, the environment n8n
// runs with (values already resolved, the NAME_FILE files n8n reads
// itself read by n8nenv.ReadFiles), exactly as n8n 1.123 and 2.40 read
// them (package n8nenv; docs/rekey.md lists each variable). A value n8n
// ignores keeps n8n's default and is listed in Config.Ignored. Errors name
// the variable, never its value.
func FromEnv(env map[string]string) (Config, error) {
	c := Config{}
	ignore := func(name, why string) { c.Ignored = append(c.Ignored, name+": "+why) }
	t, ok := n8nenv.Enum(env, "DB_TYPE", TypeSQLite, TypeSQLite, TypePostgres, "mysqldb", "mariadb")
	if !ok {
		ignore("DB_TYPE", "not sqlite, postgresdb, mysqldb or mariadb: n8n uses sqlite")
	}
	switch t {
	case TypeSQLite, TypePostgres:
		c.Type = t
	default:
		return c, fmt.Errorf("%w: DB_TYPE: MySQL and MariaDB are not supported (n8n 2.0 removed them too)", ErrConfig)
	}
	c.TablePrefix = n8nenv.String(env, "DB_TABLE_PREFIX", "")
	if c.Type == TypeSQLite {
		folder, err := n8nFolder(env)
		if err != nil {
			return c, err
		}
		// path.resolve(n8nFolder, database): an absolute name as it is.
		name := n8nenv.String(env, "DB_SQLITE_DATABASE", "database.sqlite")
		if filepath.IsAbs(name) {
			name = filepath.Clean(name)
		} else {
			name = filepath.Join(folder, name)
		}
		if !filepath.IsAbs(name) {
			abs, err := filepath.Abs(name)
			if err != nil {
				return c, fmt.Errorf("%w: DB_SQLITE_DATABASE: cannot make the path absolute", ErrConfig)
			}
			name = abs
		}
		c.SQLitePath = name
		return c, nil
	}
	// n8n's values, then node-postgres' fallbacks for an empty one
	// (connection-parameters.js: config[key] || process.env.PG<KEY> ||
	// defaults[key]).
	c.Host = or(n8nenv.String(env, "DB_POSTGRESDB_HOST", "localhost"), env["PGHOST"], "localhost")
	c.User = or(n8nenv.String(env, "DB_POSTGRESDB_USER", "postgres"), env["PGUSER"], env["USER"])
	c.Database = or(n8nenv.String(env, "DB_POSTGRESDB_DATABASE", "n8n"), env["PGDATABASE"], c.User)
	c.Schema = n8nenv.String(env, "DB_POSTGRESDB_SCHEMA", "public")
	pw := or(n8nenv.String(env, "DB_POSTGRESDB_PASSWORD", ""), env["PGPASSWORD"])
	c.password = func() string { return pw }
	if _, set := env["PGPASSWORD"]; pw == "" && !set {
		// pgpass: client.js asks it when the password is null; it reads
		// PGPASSFILE, else $HOME/.pgpass (pgpass/lib/helper.js).
		_, raw := env["PGPASS_NO_DEESCAPE"]
		c.passDeescape = !raw
		c.passFile = env["PGPASSFILE"]
		if c.passFile == "" {
			c.passFile = filepath.Join(or(env["HOME"], "./"), ".pgpass")
		}
	}
	port, ok := n8nenv.Number(env, "DB_POSTGRESDB_PORT", 5432)
	if !ok {
		ignore("DB_POSTGRESDB_PORT", "not a number: n8n uses 5432")
	}
	c.Port = portOf(port, env["PGPORT"])
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("%w: DB_POSTGRESDB_PORT: not a port number (n8n cannot connect either)", ErrConfig)
	}
	ms, ok := n8nenv.Number(env, "DB_POSTGRESDB_CONNECTION_TIMEOUT", 20000)
	if !ok {
		ignore("DB_POSTGRESDB_CONNECTION_TIMEOUT", "not a number: n8n uses 20000")
	}
	c.ConnectTimeout = connectTimeout(ms)
	c.Options = env["PGOPTIONS"]
	c.SSLCA = n8nenv.String(env, "DB_POSTGRESDB_SSL_CA", "")
	c.SSLCert = n8nenv.String(env, "DB_POSTGRESDB_SSL_CERT", "")
	c.SSLKey = n8nenv.String(env, "DB_POSTGRESDB_SSL_KEY", "")
	enabled, ok := n8nenv.Bool(env, "DB_POSTGRESDB_SSL_ENABLED", false)
	if !ok {
		ignore("DB_POSTGRESDB_SSL_ENABLED", "not true, false, 1 or 0: n8n uses false")
	}
	c.SSLRejectUnauthorized, ok = n8nenv.Bool(env, "DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", true)
	if !ok {
		ignore("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "not true, false, 1 or 0: n8n uses true")
	}
	// db-connection-options.ts: ssl = enabled, or the options object when
	// a CA, a certificate or a key is given or verification is off.
	custom := c.SSLCA != "" || c.SSLCert != "" || c.SSLKey != "" || !c.SSLRejectUnauthorized
	c.SSL = enabled || custom
	if c.SSL && !custom && env["NODE_TLS_REJECT_UNAUTHORIZED"] == "0" {
		// ssl === true: node-postgres passes no rejectUnauthorized, so
		// Node.js's default applies, which this variable turns off.
		c.SSLRejectUnauthorized = false
	}
	if c.SSL && c.SSLCA == "" {
		c.SSLExtraCAFile = env["NODE_EXTRA_CA_CERTS"]
	}
	return c, nil
}

// or returns the first of vs that is not empty, JavaScript's a || b || c
// for strings; "" when all are.
func or(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// portOf is node-postgres' parseInt(config.port || process.env.PGPORT ||
// 5432, 10) for n8n's port p; 0 when the result is not a number.
func portOf(p float64, pgport string) int {
	if p != 0 {
		return parseIntJS(numberString(p))
	}
	if pgport != "" {
		return parseIntJS(pgport)
	}
	return 5432
}

// numberString is JavaScript's String(n) as far as parseInt reads it:
// decimal notation below 1e21, exponent notation (whose mantissa's first
// digit parseInt stops after) above.
func numberString(n float64) string {
	switch {
	case math.IsInf(n, 0):
		return "Infinity"
	case math.Abs(n) >= 1e21:
		return strconv.FormatFloat(n, 'e', -1, 64)
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// parseIntJS is parseInt(s, 10) for the values here: leading white space,
// an optional sign, then decimal digits up to the first other character;
// 0 (an invalid port) when there are none.
func parseIntJS(s string) int {
	s = n8nenv.TrimJS(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	n, digits := 0, 0
	for _, r := range s {
		if r < '0' || r > '9' {
			break
		}
		digits++
		if n < 1<<20 {
			n = n*10 + int(r-'0')
		}
	}
	if digits == 0 {
		return 0
	}
	if neg {
		return -n
	}
	return n
}

// connectTimeout is node-postgres' connectionTimeoutMillis under Node.js's
// setTimeout: none unless above 0; 1 ms below 1 ms or above 2^31-1 ms
// (Node's TIMEOUT_MAX).
func connectTimeout(ms float64) time.Duration {
	switch {
	case math.IsNaN(ms) || ms <= 0:
		return 0
	case ms < 1 || ms > math.MaxInt32:
		return time.Millisecond
	}
	return time.Duration(ms * float64(time.Millisecond))
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
