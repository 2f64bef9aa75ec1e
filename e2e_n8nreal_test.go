package main

// Rehearsals with the real n8n (internal/testenv/n8nreal, installed by `make n8n`):
// n8n writes its database under one key, the binary rekeys it, n8n reads it
// under the new key and no longer under the old one; the binary refuses to
// rekey while n8n runs, and its pre-start check stops a node whose key does
// not match the database before n8n starts. On SQLite and on a real
// PostgreSQL. Every output of the binary is checked for the keys and the
// credentials' plaintexts.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// realRig is one rehearsal: a sandbox for the binary (secrets dir, canaries)
// and an n8n node whose database it works on.
type realRig struct {
	*e2e
	node *n8nreal.Node
	// n8nDB is the database settings as n8n gets them (values);
	// binDB the same as the binary gets them (the password a reference).
	n8nDB, binDB []string
	keys         map[string]string // name of the key file → key
}

// newRealRig makes keys a, b (files key_a, key_b in the secrets dir) and a
// node of in on SQLite (its user folder's database.sqlite) or on a fresh
// PostgreSQL database.
func newRealRig(t *testing.T, in *n8nreal.Install, db string) *realRig {
	t.Helper()
	r := &realRig{e2e: newE2E(t), keys: map[string]string{}}
	for _, name := range []string{"a", "b"} {
		k := r.canary("key"+name) + "-0123456789abcdef"
		r.canaries = append(r.canaries, k)
		r.plant("key_"+name, k)
		r.keys[name] = k
	}
	if db == "postgres" {
		pg := pgtest.Start(t)
		pw := r.canary("pgpw")
		pg.CreateDatabase("n8n", "n8n", pw)
		r.plant("db_password", pw)
		common := []string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + pg.Host, fmt.Sprintf("DB_POSTGRESDB_PORT=%d", pg.Port),
			"DB_POSTGRESDB_DATABASE=n8n", "DB_POSTGRESDB_USER=n8n"}
		r.n8nDB = append(append([]string{}, common...), "DB_POSTGRESDB_PASSWORD="+pw)
		r.binDB = append(append([]string{}, common...), "DB_POSTGRESDB_PASSWORD=file:db_password")
	}
	r.node = n8nreal.NewNode(t, in)
	r.useKey("a")
	return r
}

// useKey gives the node the key name (as a value, as n8n gets it) and
// removes n8n's settings file, which holds the key n8n last ran with: on a
// persistent volume it has to go when the key changes (rotate-key.sh).
func (r *realRig) useKey(name string) {
	r.t.Helper()
	r.node.Env = append([]string{"N8N_ENCRYPTION_KEY=" + r.keys[name]}, r.n8nDB...)
	if err := os.Remove(filepath.Join(r.node.DataDir(), "config")); err != nil && !os.IsNotExist(err) {
		r.t.Fatal(err)
	}
}

// bin runs the binary as an operator would: the node's user folder and
// database settings, the key as a reference to key_<from>, args.
func (r *realRig) bin(from string, args ...string) result {
	r.t.Helper()
	env := append([]string{"N8N_USER_FOLDER=" + r.node.UserFolder, "N8N_ENCRYPTION_KEY=file:key_" + from}, r.binDB...)
	return r.run(env, args...)
}

// export has n8n decrypt every credential with the node's key.
func (r *realRig) export() ([]n8nreal.Credential, error) {
	r.t.Helper()
	got, out, err := r.node.ExportCredentials()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, lastLines(out, 3))
	}
	return got, nil
}

// realCreds are canary credentials: their plaintexts must never appear in
// the binary's output.
func (r *realRig) realCreds() []n8nreal.Credential {
	return []n8nreal.Credential{
		{ID: "realCred00000001", Name: "api", Type: "httpHeaderAuth", Data: map[string]any{"name": "X-API-Key", "value": r.canary("api")}},
		{ID: "realCred00000002", Name: "pg", Type: "postgres", Data: map[string]any{"host": "db.internal", "user": "n8n",
			"password": r.canary("pgcred") + "-pässword", "port": float64(5432), "database": "app"}},
		{ID: "realCred00000003", Name: "basic", Type: "httpBasicAuth", Data: map[string]any{"user": "bob", "password": r.canary("basic")}},
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// sameCreds fails unless got holds exactly want (ids and data), naming ids
// only.
func sameCreds(t *testing.T, what string, got, want []n8nreal.Credential) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d credentials, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !reflect.DeepEqual(got[i].Data, want[i].Data) {
			t.Errorf("%s: credential %s does not hold the plaintext n8n imported", what, want[i].ID)
		}
	}
}

// TestRekeyWithRealN8N is the rehearsal of issue 11 with n8n 1.123: n8n
// imports credentials under key A; rekey --apply to key B; n8n exports the
// same plaintexts under B and fails under A. Then: rekey refused while n8n
// runs, and the pre-start check refusing key A (78, n8n not started) and
// passing key B, with n8n started through the binary.
func TestRekeyWithRealN8N(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRealRig(t, n8nreal.V1(t), db)
			creds := r.realCreds()
			if out, err := r.node.ImportCredentials(creds); err != nil {
				t.Fatalf("n8n import:credentials: %v: %s", err, lastLines(out, 3))
			}

			// A dry run writes nothing: n8n still reads everything under A.
			res := r.bin("a", "rekey", "--to", "file:key_b")
			if res.code != 0 {
				t.Fatalf("rekey (dry run): exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			got, err := r.export()
			if err != nil {
				t.Fatalf("after the dry run, n8n cannot export under key A: %v", err)
			}
			sameCreds(t, "after the dry run, under key A", got, creds)

			// The rotation.
			res = r.bin("a", "rekey", "--to", "file:key_b", "--apply")
			if res.code != 0 {
				t.Fatalf("rekey --apply: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			if fp := n8n.Fingerprint(r.keys["b"]); !strings.Contains(res.stdout+res.stderr, fp) {
				t.Errorf("rekey --apply does not print the new key's fingerprint %s", fp)
			}
			if _, err := r.export(); err == nil || !strings.Contains(err.Error(), "could not be decrypted") {
				t.Errorf("after rekey, n8n under key A: %v, want its decryption failure", err)
			}
			r.useKey("b")
			got, err = r.export()
			if err != nil {
				t.Fatalf("after rekey, n8n cannot export under key B: %v", err)
			}
			sameCreds(t, "after rekey, under key B", got, creds)

			// verify-key agrees.
			if res := r.bin("b", "verify-key"); res.code != 0 {
				t.Errorf("verify-key with key B: exit %d, want 0\n%s", res.code, res.stderr)
			}
			if res := r.bin("a", "verify-key"); res.code != 78 {
				t.Errorf("verify-key with key A: exit %d, want 78\n%s", res.code, res.stderr)
			}

			// The pre-start check, with n8n started through the binary as
			// a container's entrypoint does: key A refused before n8n
			// starts, key B starts it.
			r.useKey("b")
			startEnv := func(key string) []string {
				return append([]string{"N8N_ENCRYPTION_KEY=file:key_" + key, "N8N_SECRETS_DIR=" + r.dir,
					"N8N_SECRETS_VERIFY_KEY=on"}, r.binDB...)
			}
			r.node.Env = startEnv("a")
			_, err = r.node.Start(binPath, "--")
			se, ok := n8nreal.IsStartError(err)
			switch {
			case !ok:
				t.Errorf("n8n started through the binary with key A: %v", err)
			case se.Code != 78 || strings.Contains(se.Output, "n8n ready") || !strings.Contains(se.Output, "N8N_KEY_DB_MISMATCH"):
				t.Errorf("start with key A: exit %d, want 78 with N8N_KEY_DB_MISMATCH and n8n not started", se.Code)
			}
			if se != nil {
				r.assertNoCanary(se.Output)
			}
			r.node.Env = startEnv("b")
			p, err := r.node.Start(binPath, "--")
			if err != nil {
				t.Fatalf("start with key B through the binary: %v\n%s", err, lastLines(n8nreal.OutputOf(err), 10))
			}

			// While n8n holds the database, rekey refuses and writes
			// nothing.
			res = r.bin("b", "rekey", "--to", "file:key_a", "--apply")
			if res.code == 0 {
				t.Errorf("rekey --apply while n8n runs: exit 0, want a refusal")
			}
			if !strings.Contains(strings.ToLower(res.stderr), "stop") {
				t.Errorf("rekey's refusal does not say to stop the nodes:\n%s", res.stderr)
			}
			if err := p.Stop(); err != nil {
				t.Error(err)
			}
			r.assertNoCanary(p.Output())
			r.useKey("b")
			got, err = r.export()
			if err != nil {
				t.Fatalf("after the refused rekey, n8n cannot export under key B: %v", err)
			}
			sameCreds(t, "after the refused rekey, under key B", got, creds)
		})
	}
}

// The MFA owner of the 2.40 fixtures (testdata/n8n/README.md).
const (
	fixtureOwnerEmail    = "owner@fixture.test"
	fixtureOwnerPassword = "Fixture-Owner-Pw1"
)

// fixtureMFASecret is each 2.40 fixture's owner's TOTP secret.
var fixtureMFASecret = map[string]string{
	n8ntest.SQLite2x:   "5K6O2I23BK2ODV336TW5XD325J6KXJGS",
	n8ntest.Postgres2x: "FDILMY4NSHXUI45WMZCBQDF3KDLZSBEN",
}

// TestRekeyWithRealN8N2: the databases n8n 2.40.7 made (data keys in
// deployment_key, values under `<keyId>:`), rekeyed in full and with
// --rewrap-only: n8n 2.40 then starts with the new key (not with the old
// one), decrypts the same credentials, and the MFA owner still logs in with
// a TOTP code.
func TestRekeyWithRealN8N2(t *testing.T) {
	in := n8nreal.V2(t)
	for _, fixture := range []string{n8ntest.SQLite2x, n8ntest.Postgres2x} {
		for _, mode := range []string{"full", "rewrap-only"} {
			t.Run(fixture+"/"+mode, func(t *testing.T) {
				r := &realRig{e2e: newE2E(t), keys: map[string]string{"a": n8ntest.Key}}
				r.canaries = append(r.canaries, n8ntest.Key)
				r.plant("key_a", n8ntest.Key)
				kb := r.canary("keyb") + "-0123456789abcdef"
				r.canaries = append(r.canaries, kb)
				r.plant("key_b", kb)
				r.keys["b"] = kb
				for _, plain := range n8ntest.Credentials {
					var m map[string]any
					_ = json.Unmarshal([]byte(plain), &m)
					for _, v := range m {
						if s, ok := v.(string); ok && strings.HasPrefix(s, "fixture") {
							r.canaries = append(r.canaries, s)
						}
					}
				}
				r.node = n8nreal.NewNode(t, in)
				if fixture == n8ntest.SQLite2x {
					b, err := os.ReadFile(filepath.Join(n8ntest.Dir(), fixture))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.MkdirAll(r.node.DataDir(), 0o700); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(r.node.SQLitePath(), b, 0o600); err != nil {
						t.Fatal(err)
					}
				} else {
					pg := pgtest.Start(t)
					n8ntest.RestorePostgres(t, pg, fixture, "n8n240")
					for k, v := range n8ntest.PostgresEnv(pg, "n8n240") {
						r.n8nDB = append(r.n8nDB, k+"="+v)
					}
					sort.Strings(r.n8nDB)
					r.binDB = r.n8nDB
				}

				args := []string{"rekey", "--to", "file:key_b", "--apply"}
				if mode == "rewrap-only" {
					args = append(args, "--rewrap-only")
				}
				if res := r.bin("a", args...); res.code != 0 {
					t.Fatalf("rekey %s: exit %d\n%s%s", mode, res.code, res.stdout, res.stderr)
				}

				// n8n 2.40 refuses the old key: its data keys are wrapped
				// under the new one.
				r.useKey("a")
				r.node.Env = append(r.node.Env, "N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true")
				_, err := r.node.Start()
				if se, ok := n8nreal.IsStartError(err); !ok || !strings.Contains(se.Output, "cannot be read with this instance encryption key") {
					t.Errorf("n8n 2.40 with the old key after rekey: %v, want its refusal of the deployment keys", err)
				}

				r.useKey("b")
				r.node.Env = append(r.node.Env, "N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true")
				p, err := r.node.Start()
				if err != nil {
					t.Fatalf("n8n 2.40 with the new key: %v\n%s", err, lastLines(n8nreal.OutputOf(err), 15))
				}
				if status, code, err := p.Login(fixtureOwnerEmail, fixtureOwnerPassword, ""); err != nil || status != 401 || code != 998 {
					t.Errorf("login without an MFA code: status %d, code %d (%v), want 401 with n8n's MFA error 998", status, code, err)
				}
				totp, err := n8nreal.TOTP(fixtureMFASecret[fixture], time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if status, _, err := p.Login(fixtureOwnerEmail, fixtureOwnerPassword, totp); err != nil || status != 200 {
					t.Errorf("login with a TOTP code after rekey: status %d (%v), want 200: the MFA secret must decrypt", status, err)
				}
				if err := p.Stop(); err != nil {
					t.Error(err)
				}
				got, err := r.export()
				if err != nil {
					t.Fatalf("n8n 2.40 export under the new key: %v", err)
				}
				if len(got) != len(n8ntest.Credentials) {
					t.Fatalf("exported %d credentials, want %d", len(got), len(n8ntest.Credentials))
				}
				for _, c := range got {
					var want map[string]any
					if err := json.Unmarshal([]byte(n8ntest.Credentials[c.ID]), &want); err != nil {
						t.Fatalf("credential %s is not one of the fixture's", c.ID)
					}
					if !reflect.DeepEqual(c.Data, want) {
						t.Errorf("credential %s does not hold the fixture's plaintext", c.ID)
					}
				}
			})
		}
	}
}
