// Package n8ntest gives tests n8n's databases as the real n8n made them
// (testdata/n8n: SQLite files and PostgreSQL dumps of n8n 1.123 and 2.40),
// copied or restored fresh for each test, and plants a value at every place
// n8n stores one encrypted that the fixtures leave empty (SSO and LDAP
// settings, external secrets, 2.x's newer tables), in either format, with
// canary plaintexts, so that verify and rekey are tested on every item of
// the inventory.
package n8ntest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
)

// Key is the instance key every fixture was made with.
const Key = "fixture-key-7f3c9a1e5b2d4c6e8a0f1b3d5e7a9c1e"

// The fixtures.
const (
	SQLite1x   = "n8n-1.123-sqlite-mfa-fixture.sqlite"
	SQLite2x   = "n8n-2.40-sqlite-gcm-mfa-fixture.sqlite"
	Postgres1x = "n8n-1.123-postgres-fixture.sql"
	Postgres2x = "n8n-2.40-postgres-gcm-fixture.sql"
)

// PGUser and PGPassword are the role the dumps are restored as, like the
// one n8n used.
const (
	PGUser     = "n8n"
	PGPassword = "n8n-fixture-pw"
)

// Credentials are the fixtures' credential plaintexts, by id.
var Credentials = map[string]string{
	"fixtureCred001": `{"name":"X-API-Key","value":"fixture-api-key-1"}`,
	"fixtureCred002": `{"host":"db.internal","user":"n8n","password":"fixture-pg-pässword","port":5432,"database":"app"}`,
	"fixtureCred003": `{"user":"bob","password":"fixture basic pw"}`,
}

// Dir returns the absolute path of testdata/n8n.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "n8n")
}

// CopySQLite copies fixture name into a new temporary user folder, as
// <folder>/.n8n/database.sqlite, and returns the folder and the file.
func CopySQLite(t testing.TB, name string) (folder, path string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	folder = t.TempDir()
	if err := os.MkdirAll(filepath.Join(folder, ".n8n"), 0o700); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(folder, ".n8n", "database.sqlite")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return folder, path
}

// RestorePostgres restores dump name into a new database db owned by
// PGUser, restored as that role (so that n8n's tables are its own, as
// n8n's migrations made them).
func RestorePostgres(t testing.TB, s *pgtest.Server, name, db string) {
	t.Helper()
	s.CreateDatabase(db, PGUser, PGPassword)
	if out, err := s.Psql(db, "-c", "SET ROLE "+PGUser, "-f", filepath.Join(Dir(), name)); err != nil {
		t.Fatalf("restore %s: %v\n%s", name, err, out)
	}
}

// PostgresEnv returns n8n's variables for database db on s.
func PostgresEnv(s *pgtest.Server, db string) map[string]string {
	return map[string]string{
		"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": s.Host, "DB_POSTGRESDB_PORT": strconv.Itoa(s.Port),
		"DB_POSTGRESDB_DATABASE": db, "DB_POSTGRESDB_USER": PGUser, "DB_POSTGRESDB_PASSWORD": PGPassword,
	}
}

// Conn is a raw connection to a fixture database, for planting and
// checksums.
type Conn struct {
	*sql.DB
	pg bool
}

// OpenSQLite opens a SQLite file for the test's own reads and writes.
func OpenSQLite(t testing.TB, path string) *Conn {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &Conn{DB: db}
}

// OpenPostgres opens database db on s as PGUser.
func OpenPostgres(t testing.TB, s *pgtest.Server, db string) *Conn {
	t.Helper()
	c, err := sql.Open("pgx", fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", PGUser, PGPassword, s.Host, s.Port, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Conn{DB: c, pg: true}
}

// P returns the n-th bind parameter.
func (c *Conn) P(n int) string {
	if c.pg {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// Exec runs a statement with ? placeholders rewritten for the dialect.
func (c *Conn) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if c.pg {
		n := 0
		var b strings.Builder
		for _, r := range query {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		query = b.String()
	}
	if _, err := c.DB.Exec(query, args...); err != nil {
		t.Fatalf("n8ntest: %s: %v", strings.Fields(query)[0], err)
	}
}

// Encrypter encrypts a plaintext the way n8n stores it: CBC under the
// instance key, or "<id>:" + GCM under data key DEK.
type Encrypter struct {
	Key   string // instance key (CBC)
	DEKID string // "" for CBC
	DEK   string // 64 hex digits
}

// Encrypt returns the stored form of plaintext.
func (e Encrypter) Encrypt(t testing.TB, plaintext string) string {
	t.Helper()
	if e.DEKID == "" {
		v, err := cipher.EncryptCBC(e.Key, []byte(plaintext))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v, err := cipher.EncryptGCM(e.DEK, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	return e.DEKID + ":" + v
}

// Planted is one planted value: where, and its plaintext (a canary).
type Planted struct {
	Location, ID, Plaintext string
}

// Plant writes an encrypted value at every inventory location the fixture
// leaves empty, with enc, and returns them. twoX says the database has
// n8n 2.x's tables. ownerID is the fixture's owner (for per-user rows).
func Plant(t testing.TB, c *Conn, enc Encrypter, twoX bool, ownerID, tag string) []Planted {
	t.Helper()
	var out []Planted
	canary := func(what string) string { return "CANARY-" + tag + "-" + what }
	js := func(what string) string { return `{"secret":"` + canary(what) + `"}` }
	add := func(loc, id, pt string) { out = append(out, Planted{loc, id, pt}) }

	setting := func(key, value string) {
		c.Exec(t, `DELETE FROM settings WHERE "key" = ?`, key)
		c.Exec(t, `INSERT INTO settings ("key", "value", "loadOnStartup") VALUES (?, ?, ?)`, key, value, true)
	}
	u, p := canary("git-user"), canary("git-pw")
	setting("features.sourceControl.httpsCredentials", `{"encryptedUsername":"`+enc.Encrypt(t, u)+`","encryptedPassword":"`+enc.Encrypt(t, p)+`"}`)
	add("settings features.sourceControl.httpsCredentials", "features.sourceControl.httpsCredentials encryptedUsername", u)
	add("settings features.sourceControl.httpsCredentials", "features.sourceControl.httpsCredentials encryptedPassword", p)
	ldap := canary("ldap-pw")
	setting("features.ldap", `{"loginEnabled":false,"connectionUrl":"ldap.example","bindingAdminPassword":"`+enc.Encrypt(t, ldap)+`","bindingAdminDn":"cn=admin"}`)
	add("settings features.ldap", "features.ldap bindingAdminPassword", ldap)
	oidc := canary("oidc-secret")
	setting("features.oidc", `{"clientId":"n8n","clientSecret":"`+enc.Encrypt(t, oidc)+`","discoveryEndpoint":"https://idp.example/.well-known/openid-configuration","loginEnabled":false}`)
	add("settings features.oidc", "features.oidc clientSecret", oidc)
	ext := js("external-secrets")
	setting("feature.externalSecrets", enc.Encrypt(t, ext))
	add("settings feature.externalSecrets", "feature.externalSecrets", ext)
	over := js("overwrites")
	setting("credentialsOverwrite", enc.Encrypt(t, over))
	add("settings credentialsOverwrite", "credentialsOverwrite", over)
	ssh := canary("ssh-private-key")
	setting("features.sourceControl.sshKeys", `{"encryptedPrivateKey":"`+enc.Encrypt(t, ssh)+`","publicKey":"ssh-ed25519 AAAA test"}`)
	add("settings features.sourceControl.sshKeys", "features.sourceControl.sshKeys encryptedPrivateKey", ssh)
	// A credential and a user of the planted format, beside the fixture's.
	cred := js("credential")
	c.Exec(t, `INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (?, ?, ?, ?)`, "planted"+tag, "planted", enc.Encrypt(t, cred), "httpHeaderAuth")
	add("credentials_entity.data", "planted"+tag, cred)
	if !twoX {
		return out
	}
	saml := canary("saml-key")
	setting("features.saml", `{"mapping":{},"signingPrivateKey":"`+enc.Encrypt(t, saml)+`","loginEnabled":false}`)
	add("settings features.saml", "features.saml signingPrivateKey", saml)
	spc := js("provider-connection")
	c.Exec(t, `INSERT INTO secrets_provider_connection ("id", "providerKey", "type", "encryptedSettings", "isEnabled") VALUES (?, ?, ?, ?, ?)`, 7001, "vault-"+tag, "vault", enc.Encrypt(t, spc), false)
	add("secrets_provider_connection.encryptedSettings", "7001", spc)
	pp := js("promotion-auth")
	c.Exec(t, `INSERT INTO promotion_provider ("id", "name", "type", "authType", "config", "auth") VALUES (?, ?, ?, ?, ?, ?)`, "pp-"+tag, "git", "git", "token", "{}", enc.Encrypt(t, pp))
	add("promotion_provider.auth", "pp-"+tag, pp)
	res := js("resolver")
	c.Exec(t, `INSERT INTO dynamic_credential_resolver ("id", "name", "type", "config") VALUES (?, ?, ?, ?)`, "res"+tag, "resolver", "n8n", enc.Encrypt(t, res))
	add("dynamic_credential_resolver.config", "res"+tag, res)
	ue := js("user-entry")
	c.Exec(t, `INSERT INTO dynamic_credential_user_entry ("credentialId", "userId", "resolverId", "data") VALUES (?, ?, ?, ?)`, "fixtureCred001", ownerID, "res"+tag, enc.Encrypt(t, ue))
	add("dynamic_credential_user_entry.data", "fixtureCred001/"+ownerID+"/res"+tag, ue)
	de := js("entry")
	c.Exec(t, `INSERT INTO dynamic_credential_entry ("credential_id", "subject_id", "resolver_id", "data") VALUES (?, ?, ?, ?)`, "fixtureCred001", "subject-1", "res"+tag, enc.Encrypt(t, de))
	add("dynamic_credential_entry.data", "fixtureCred001/subject-1/res"+tag, de)
	return out
}

// WaitIdle waits until no client session is connected to database db on
// s: a closed connection's server process ends a moment after the client
// left, and a rekey --apply refuses while any session is there.
func WaitIdle(t testing.TB, s *pgtest.Server, db string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := strings.TrimSpace(s.Exec("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = '"+db+"' AND backend_type = 'client backend'"))
		if out == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("n8ntest: %s sessions still connected to %s", out, db)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
