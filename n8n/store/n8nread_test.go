package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
)

// readCase is one environment n8n and n8n-secrets both read. row is the
// row of docs/rekey.md's table of variables the case belongs to. Values
// "@file:CONTENTS" are replaced by the path of a file holding CONTENTS.
type readCase struct {
	row string
	env map[string]string
}

// readCases: every row of docs/rekey.md's table, each with the values
// that n8n reads in a way worth proving (white space, quotes, empty,
// invalid, NAME_FILE, node-postgres' fallbacks).
var readCases = []readCase{
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": "plain-key-0123456789"}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": "  spaced-key-0123456789\t\n"}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": `"quoted-key-0123456789"`}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": ` 'single-quoted-key' `}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": `"a` + "\n" + `b"`}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": `"mismatched'`}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": `""`}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": "\u00a0nbsp-key\u2028"}},
	{"N8N_ENCRYPTION_KEY", map[string]string{"N8N_ENCRYPTION_KEY": "nel-key\u0085"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY_FILE": "@file:file-key-0123456789\n"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY_FILE": "@file:\ufefffile-key-bom\r\n\r\n"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY_FILE": "@file: \"file-key-quoted\"\n"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY": "", "N8N_ENCRYPTION_KEY_FILE": "@file:ignored-file-key"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY": "env-wins", "N8N_ENCRYPTION_KEY_FILE": "@file:file-loses"}},
	{"N8N_ENCRYPTION_KEY_FILE", map[string]string{"N8N_ENCRYPTION_KEY_FILE": "/nonexistent/n8n-secrets-test/key"}},
	{"DB_TYPE", map[string]string{}},
	{"DB_TYPE", map[string]string{"DB_TYPE": " postgresdb "}},
	{"DB_TYPE", map[string]string{"DB_TYPE": `'postgresdb'`}},
	{"DB_TYPE", map[string]string{"DB_TYPE": "postgres"}},
	{"DB_TYPE", map[string]string{"DB_TYPE": "PostgresDB"}},
	{"DB_TYPE", map[string]string{"DB_TYPE_FILE": "@file:postgresdb\n"}},
	{"DB_TABLE_PREFIX", map[string]string{"DB_TABLE_PREFIX": " n8n_ "}},
	{"DB_TABLE_PREFIX", map[string]string{"DB_TABLE_PREFIX": `"my-prefix_"`}},
	{"DB_SQLITE_DATABASE", map[string]string{}},
	{"DB_SQLITE_DATABASE", map[string]string{"DB_SQLITE_DATABASE": "sub/my.sqlite"}},
	{"DB_SQLITE_DATABASE", map[string]string{"DB_SQLITE_DATABASE": ` "/srv/../srv/n8n.sqlite" `}},
	{"DB_SQLITE_DATABASE", map[string]string{"DB_SQLITE_DATABASE": ""}},
	{"N8N_USER_FOLDER", map[string]string{"N8N_USER_FOLDER": "/data/n8n"}},
	{"N8N_USER_FOLDER", map[string]string{"N8N_USER_FOLDER": ""}},
	{"N8N_USER_FOLDER", map[string]string{"HOME": ""}},
	{"N8N_USER_FOLDER", map[string]string{"N8N_USER_FOLDER": " /spaced "}},
	{"DB_POSTGRESDB_HOST", pg("DB_POSTGRESDB_HOST", "db.internal")},
	{"DB_POSTGRESDB_HOST", pg("DB_POSTGRESDB_HOST", ` "db.internal" `)},
	{"DB_POSTGRESDB_HOST", pg("DB_POSTGRESDB_HOST", "")},
	{"DB_POSTGRESDB_HOST", pg("DB_POSTGRESDB_HOST", "", "PGHOST", "pg.from.env")},
	{"DB_POSTGRESDB_HOST", pg("PGHOST", "pg.ignored")},
	{"DB_POSTGRESDB_HOST", pg("DB_POSTGRESDB_HOST_FILE", "@file:db.from.file\n")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "5433")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", " 5433\n")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "0x1539")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "5433.9")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "54e2")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "abc")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", `"5433"`)},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", "", "PGPORT", " 6543x")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT", `""`, "PGPORT", "6543")},
	{"DB_POSTGRESDB_PORT", pg("PGPORT", "6543")},
	{"DB_POSTGRESDB_PORT", pg("DB_POSTGRESDB_PORT_FILE", "@file:5434\n")},
	{"DB_POSTGRESDB_DATABASE", pg("DB_POSTGRESDB_DATABASE", " 'n8n_prod' ")},
	{"DB_POSTGRESDB_DATABASE", pg("DB_POSTGRESDB_DATABASE", "", "PGDATABASE", "pgdb")},
	{"DB_POSTGRESDB_DATABASE", pg("DB_POSTGRESDB_DATABASE", "", "DB_POSTGRESDB_USER", "someone")},
	{"DB_POSTGRESDB_USER", pg("DB_POSTGRESDB_USER", " n8n ")},
	{"DB_POSTGRESDB_USER", pg("DB_POSTGRESDB_USER", "", "PGUSER", "pguser")},
	{"DB_POSTGRESDB_USER", pg("DB_POSTGRESDB_USER", "", "USER", "osuser")},
	{"DB_POSTGRESDB_USER", pg("PGUSER", "ignored", "USER", "ignored")},
	{"DB_POSTGRESDB_PASSWORD", pg("DB_POSTGRESDB_PASSWORD", "pw")},
	{"DB_POSTGRESDB_PASSWORD", pg("DB_POSTGRESDB_PASSWORD", ` "quoted pw" `)},
	{"DB_POSTGRESDB_PASSWORD", pg("DB_POSTGRESDB_PASSWORD", "", "PGPASSWORD", "from-pgpassword")},
	{"DB_POSTGRESDB_PASSWORD", pg("PGPASSWORD", "from-pgpassword")},
	{"DB_POSTGRESDB_PASSWORD", pg("DB_POSTGRESDB_PASSWORD_FILE", "@file:file-pw \n")},
	{"DB_POSTGRESDB_PASSWORD", pg()},
	{"DB_POSTGRESDB_PASSWORD", pg("DB_POSTGRESDB_PASSWORD_FILE", "/nonexistent/n8n-secrets-test/pw")},
	{"DB_POSTGRESDB_SCHEMA", pg("DB_POSTGRESDB_SCHEMA", ` "My Schema" `)},
	{"DB_POSTGRESDB_CONNECTION_TIMEOUT", pg("DB_POSTGRESDB_CONNECTION_TIMEOUT", "5000")},
	{"DB_POSTGRESDB_CONNECTION_TIMEOUT", pg("DB_POSTGRESDB_CONNECTION_TIMEOUT", "0")},
	{"DB_POSTGRESDB_CONNECTION_TIMEOUT", pg("DB_POSTGRESDB_CONNECTION_TIMEOUT", "-5")},
	{"DB_POSTGRESDB_CONNECTION_TIMEOUT", pg("DB_POSTGRESDB_CONNECTION_TIMEOUT", "soon")},
	{"DB_POSTGRESDB_CONNECTION_TIMEOUT", pg("DB_POSTGRESDB_CONNECTION_TIMEOUT", " ")},
	{"DB_POSTGRESDB_SSL_ENABLED", pg("DB_POSTGRESDB_SSL_ENABLED", "TRUE")},
	{"DB_POSTGRESDB_SSL_ENABLED", pg("DB_POSTGRESDB_SSL_ENABLED", "1")},
	{"DB_POSTGRESDB_SSL_ENABLED", pg("DB_POSTGRESDB_SSL_ENABLED", " true")},
	{"DB_POSTGRESDB_SSL_ENABLED", pg("DB_POSTGRESDB_SSL_ENABLED", "yes")},
	{"DB_POSTGRESDB_SSL_ENABLED", pg("DB_POSTGRESDB_SSL_ENABLED_FILE", "@file:true\n")},
	{"DB_POSTGRESDB_SSL_CA", pg("DB_POSTGRESDB_SSL_CA", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")},
	{"DB_POSTGRESDB_SSL_CA", pg("DB_POSTGRESDB_SSL_CA", "/etc/ssl/ca.pem")},
	{"DB_POSTGRESDB_SSL_CA", pg("DB_POSTGRESDB_SSL_CA_FILE", "@file:-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")},
	{"DB_POSTGRESDB_SSL_CERT", pg("DB_POSTGRESDB_SSL_CERT", "cert-pem", "DB_POSTGRESDB_SSL_KEY", "key-pem")},
	{"DB_POSTGRESDB_SSL_KEY", pg("DB_POSTGRESDB_SSL_KEY_FILE", "@file:key-pem\n")},
	{"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", pg("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "false")},
	{"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", pg("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "0")},
	{"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", pg("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "no")},
	{"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", pg("DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "FALSE", "DB_POSTGRESDB_SSL_ENABLED", "false")},
	{"PGSSLMODE", pg("PGSSLMODE", "require")},
	{"PGSSLMODE", pg("PGSSLMODE", "disable", "DB_POSTGRESDB_SSL_ENABLED", "true")},
	{"PGOPTIONS", pg("PGOPTIONS", "-c statement_timeout=1000")},
	{"PGSERVICE", pg("PGSERVICE", "n8n", "PGSERVICEFILE", "/nonexistent/pg_service.conf")},
}

// pg returns a PostgreSQL environment with kv added.
func pg(kv ...string) map[string]string {
	m := map[string]string{"DB_TYPE": "postgresdb"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// n8nRead is what n8nread.js prints for a case.
type n8nRead struct {
	Warnings      []string `json:"warnings"`
	Error         string   `json:"error"`
	EncryptionKey string   `json:"encryptionKey"`
	Type          string   `json:"type"`
	TablePrefix   string   `json:"tablePrefix"`
	Database      string   `json:"database"`
	Schema        string   `json:"schema"`
	PG            *struct {
		Host, Port, User, Database string
		Password                   *string
		SSL                        json.RawMessage
		Options                    *string
		ConnectionTimeoutMillis    string
	} `json:"pg"`
	Password *string `json:"password"`
}

// runN8NRead runs n8nread.js with the real n8n of in on cases (a JSON
// array), and returns its results.
func runN8NRead(t *testing.T, in *n8nreal.Install, cases any) []n8nRead {
	t.Helper()
	script, err := filepath.Abs("n8nread.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cases)
	ctx, cancel := context.WithTimeout(context.Background(), n8nreal.CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = in.Dir
	for _, kv := range in.Environ(t.TempDir()) {
		if strings.HasPrefix(kv, "PATH=") {
			cmd.Env = []string{kv}
			// exec.Command looks node up in the test's PATH: take the
			// install's.
			if p, err := lookPathIn("node", strings.TrimPrefix(kv, "PATH=")); err == nil {
				cmd.Path = p
			}
		}
	}
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("n8nread.js with n8n %s: %v\n%s", in.Version, err, stderr.String())
	}
	var res []n8nRead
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("n8nread.js: %v", err)
	}
	return res
}

func lookPathIn(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not in PATH", name)
}

var warnedVar = regexp.MustCompile(`(?:Invalid (?:number |boolean )?value for |Invalid value for )([A-Z0-9_]+)`)

// TestReadAsN8NReads: for every row of docs/rekey.md's table, n8n-secrets
// reads n8n's variables as the real n8n 1.123 and 2.40 do, compared with
// what n8n's own code makes of the same environment (n8nread.js): the key,
// the database type, table prefix, SQLite path, and what node-postgres
// connects with (host, port, user, database, password, schema, TLS,
// options, timeout), the values n8n ignores, and a NAME_FILE n8n cannot
// read. Values are compared without being printed.
func TestReadAsN8NReads(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	type input struct {
		Env map[string]string `json:"env"`
		Cwd string            `json:"cwd"`
	}
	var inputs []input
	var envs []map[string]string
	for i, c := range readCases {
		env := map[string]string{"HOME": filepath.Join(dir, "home"), "PATH": "/usr/bin:/bin"}
		for k, v := range c.env {
			if contents, ok := strings.CutPrefix(v, "@file:"); ok {
				p := filepath.Join(dir, fmt.Sprintf("case%d-%s", i, k))
				if err := os.WriteFile(p, []byte(contents), 0o600); err != nil {
					t.Fatal(err)
				}
				v = p
			}
			env[k] = v
		}
		envs = append(envs, env)
		inputs = append(inputs, input{env, wd})
	}
	for major, find := range []func(testing.TB) *n8nreal.Install{n8nreal.V1, n8nreal.V2} {
		t.Run(fmt.Sprintf("n8n %d.x", major+1), func(t *testing.T) {
			in := find(t)
			res := runN8NRead(t, in, inputs)
			if len(res) != len(readCases) {
				t.Fatalf("%d results for %d cases", len(res), len(readCases))
			}
			for i, c := range readCases {
				compareRead(t, fmt.Sprintf("case %d (%s)", i, c.row), envs[i], diverge(major+1, envs[i], res[i]))
			}
		})
	}
}

// diverge returns what n8n 2.40 makes of env where n8n 1.123 reads it
// otherwise, from 1.123's result want: the one place where the two
// versions differ for these variables, and n8n-secrets follows 2.40 (as
// docs/rekey.md says). A number set to a value that normalizes to "" is
// 1.123's Number(value): 0 for "" and white space (for the port,
// node-postgres then takes PGPORT, else 5432; for the timeout, none), NaN
// for a quoted "" (a warning, the default); 2.40 keeps the default.
func diverge(major int, env map[string]string, want n8nRead) n8nRead {
	if major != 1 || want.PG == nil {
		return want
	}
	pg := *want.PG
	if n8nenv.Empty(env, "DB_POSTGRESDB_PORT") {
		pg.Port = "5432"
	}
	if n8nenv.Empty(env, "DB_POSTGRESDB_CONNECTION_TIMEOUT") {
		pg.ConnectionTimeoutMillis = "20000"
	}
	want.PG = &pg
	want.Warnings = slices.DeleteFunc(slices.Clone(want.Warnings), func(w string) bool {
		m := warnedVar.FindStringSubmatch(w)
		return m != nil && n8nenv.Empty(env, m[1])
	})
	return want
}

// compareRead fails t when n8n-secrets reads env otherwise than n8n did
// (want). Messages name the field, never a value.
func compareRead(t *testing.T, name string, env map[string]string, want n8nRead) {
	t.Helper()
	view, err := n8nenv.ReadFiles(context.Background(), env, n8nenv.Names)
	if want.Error != "" || err != nil {
		if (want.Error != "") != (err != nil) {
			t.Errorf("%s: n8n fails to read its configuration: %v; n8n-secrets: %v", name, want.Error != "", err != nil)
		}
		return
	}
	if got := n8nenv.String(view, "N8N_ENCRYPTION_KEY", ""); got != want.EncryptionKey {
		t.Errorf("%s: the encryption key differs from n8n's", name)
	}
	cfg, err := FromEnv(view)
	if err != nil {
		t.Errorf("%s: FromEnv: %v (n8n reads type %s)", name, err, want.Type)
		return
	}
	if cfg.Type != want.Type || cfg.TablePrefix != want.TablePrefix {
		t.Errorf("%s: type or table prefix differ from n8n's", name)
	}
	var warned []string
	for _, w := range want.Warnings {
		if m := warnedVar.FindStringSubmatch(w); m != nil && slices.Contains(n8nenv.Names, m[1]) {
			warned = append(warned, m[1])
		}
	}
	var ignored []string
	for _, s := range cfg.Ignored {
		ignored = append(ignored, strings.SplitN(s, ":", 2)[0])
	}
	sort.Strings(warned)
	sort.Strings(ignored)
	if !slices.Equal(warned, ignored) {
		t.Errorf("%s: n8n ignores %v, n8n-secrets %v", name, warned, ignored)
	}
	if cfg.Type == TypeSQLite {
		if cfg.SQLitePath != want.Database {
			t.Errorf("%s: the SQLite path differs from n8n's", name)
		}
		return
	}
	p := want.PG
	if p == nil {
		t.Fatalf("%s: n8n made no PostgreSQL settings", name)
	}
	if cfg.Host != p.Host || strconv.Itoa(cfg.Port) != p.Port || cfg.User != p.User || cfg.Database != p.Database || cfg.Schema != want.Schema {
		t.Errorf("%s: host, port, user, database or schema differ from n8n's (port %s / %d)", name, p.Port, cfg.Port)
	}
	switch {
	case p.Password == nil && (cfg.pw() != "" || (cfg.passFile == "") != has(env, "PGPASSWORD")):
		t.Errorf("%s: node-postgres has no password (pgpass is asked unless PGPASSWORD is set)", name)
	case p.Password != nil && cfg.pw() != *p.Password:
		t.Errorf("%s: the password differs from n8n's", name)
	}
	if opts := ""; p.Options != nil && *p.Options != cfg.Options || p.Options == nil && cfg.Options != opts {
		t.Errorf("%s: the startup options differ", name)
	}
	var ssl any
	_ = json.Unmarshal(p.SSL, &ssl)
	switch s := ssl.(type) {
	case bool:
		if cfg.SSL != s {
			t.Errorf("%s: n8n's ssl is %v", name, s)
		}
		if s && (cfg.SSLCA != "" || cfg.SSLCert != "" || cfg.SSLKey != "" || cfg.SSLRejectUnauthorized != (env["NODE_TLS_REJECT_UNAUTHORIZED"] != "0")) {
			t.Errorf("%s: ssl: true is Node.js's defaults", name)
		}
	case map[string]any:
		str := func(k string) string { v, _ := s[k].(string); return v }
		ru, _ := s["rejectUnauthorized"].(bool)
		if !cfg.SSL || cfg.SSLCA != str("ca") || cfg.SSLCert != str("cert") || cfg.SSLKey != str("key") || cfg.SSLRejectUnauthorized != ru {
			t.Errorf("%s: the TLS options differ from n8n's", name)
		}
	default:
		t.Errorf("%s: unexpected ssl %T", name, ssl)
	}
	ms, _ := strconv.ParseFloat(p.ConnectionTimeoutMillis, 64)
	if p.ConnectionTimeoutMillis == "NaN" {
		ms = math.NaN()
	}
	if want := connectTimeout(ms); cfg.ConnectTimeout != want {
		t.Errorf("%s: connect timeout %v, n8n's %v", name, cfg.ConnectTimeout, want)
	}
}

func has(env map[string]string, k string) bool { _, ok := env[k]; return ok }

// TestPgpassAsNodePostgres: the password n8n-secrets finds in a pgpass
// file is the one node-postgres' pgpass module finds (run by the real n8n
// 1.123 and 2.40), for lines libpq and other parsers read otherwise.
func TestPgpassAsNodePostgres(t *testing.T) {
	type conn struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Database string `json:"database"`
		User     string `json:"user"`
	}
	type pcase struct {
		Pgpass string            `json:"pgpass"`
		Conn   conn              `json:"conn"`
		Env    map[string]string `json:"env"`
	}
	c := conn{"db.internal", 5432, "n8n", "n8n"}
	files := []string{
		"db.internal:5432:n8n:n8n:plain\n",
		"db.internal:5432:n8n:n8n:with:colons\n",
		"db.internal:5432:n8n:n8n:esc\\:aped\\\\pw\n",
		"*:*:*:*:wild\n",
		"other:5432:n8n:n8n:no\n*:05432:n8n:n8n:leading-zero-port\n",
		"# comment:5432:n8n:n8n:x\n db.internal:5432:n8n:n8n:lead-space\n",
		"  # comment:*:*:*:x\n*:*:*:*:after-comment\n",
		"a:1:b:c:d\n*:*:*:*:short-lines-skipped\n",
		"db.internal:5432:n8n:n8n:crlf\r\n",
		"db.internal:5432:n8n:n8n:\n*:*:*:*:empty-password-skipped\n",
		"db.internal:port:n8n:n8n:x\n*:*:*:*:bad-port-skipped\n",
		"db.internal:5432:n8n:n8n:trailing space \n",
		"",
	}
	var cases []pcase
	for _, f := range files {
		cases = append(cases, pcase{Pgpass: f, Conn: c, Env: map[string]string{}})
	}
	cases = append(cases, pcase{Pgpass: files[2], Conn: c, Env: map[string]string{"PGPASS_NO_DEESCAPE": "1"}})
	for major, find := range []func(testing.TB) *n8nreal.Install{n8nreal.V1, n8nreal.V2} {
		t.Run(fmt.Sprintf("n8n %d.x", major+1), func(t *testing.T) {
			in := find(t)
			res := runN8NRead(t, in, cases)
			for i, pc := range cases {
				_, raw := pc.Env["PGPASS_NO_DEESCAPE"]
				got := pgpassFind([]byte(pc.Pgpass), c.Host, c.Port, c.Database, c.User, !raw)
				want := ""
				if res[i].Password != nil {
					want = *res[i].Password
				}
				if got != want {
					t.Errorf("pgpass file %d: n8n-secrets and node-postgres find different passwords", i)
				}
			}
		})
	}
}

// TestReadsTableCoversEveryRow: docs/rekey.md's table of what n8n reads
// and readCases name the same variables: each row of the table has cases
// that TestReadAsN8NReads runs with n8n's own code, and each case belongs
// to a row.
func TestReadsTableCoversEveryRow(t *testing.T) {
	b, err := os.ReadFile("../../docs/rekey.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, "<!-- n8n-reads:begin"), strings.Index(doc, "<!-- n8n-reads:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/rekey.md lacks the n8n-reads markers")
	}
	inTable := map[string]bool{}
	for _, line := range strings.Split(doc[i:j], "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1]
		for _, m := range regexp.MustCompile("`([A-Z0-9_]+)`").FindAllStringSubmatch(first, -1) {
			inTable[m[1]] = true
		}
	}
	inCases := map[string]bool{}
	for _, c := range readCases {
		inCases[c.row] = true
	}
	for v := range inTable {
		if !inCases[v] {
			t.Errorf("docs/rekey.md's row %s has no case in readCases", v)
		}
	}
	for v := range inCases {
		if !inTable[v] {
			t.Errorf("readCases' row %s is not in docs/rekey.md's table", v)
		}
	}
	if len(inTable) < 15 {
		t.Fatalf("the table has %d variables: not parsed", len(inTable))
	}
}
