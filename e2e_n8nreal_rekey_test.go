package main

// Rehearsals with the real n8n 2.40 of what a full rekey keeps (issue 19):
// the MFA owner's session across a --signing-secrets keep rekey.

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

// newFixtureRig is a rehearsal on one of the databases n8n 2.40.7 made:
// key a is the fixture's, key b a new one (files key_a and key_b in the
// secrets dir), n8n's node on a copy of the SQLite file or on a restored
// PostgreSQL dump.
func newFixtureRig(t *testing.T, in *n8nreal.Install, fixture string) *realRig {
	t.Helper()
	r := &realRig{e2e: newE2E(t), keys: map[string]string{"a": n8ntest.Key}}
	r.canaries = append(r.canaries, n8ntest.Key)
	r.plant("key_a", n8ntest.Key)
	kb := r.canary("keyb") + "-0123456789abcdef"
	r.canaries = append(r.canaries, kb)
	r.plant("key_b", kb)
	r.keys["b"] = kb
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
	return r
}

// start starts n8n 2.40 with key name and the rotation flag.
func (r *realRig) start(name string) *n8nreal.Process {
	r.t.Helper()
	r.useKey(name)
	r.node.Env = append(r.node.Env, "N8N_ENV_FEAT_ENCRYPTION_KEY_ROTATION=true")
	p, err := r.node.Start()
	if err != nil {
		r.t.Fatalf("n8n 2.40 with key %s: %v\n%s", name, err, lastLines(n8nreal.OutputOf(err), 15))
	}
	return p
}

// TestMFASessionSurvivesKeepRekey (issue 19, item 4): n8n's session hash
// includes the first 3 characters of the stored MFA secret, on 2.x the
// start of its data key's id. The MFA owner logs in (TOTP) under the old
// key; after a full rekey with --signing-secrets keep, the real n8n 2.40
// with the new key still accepts that session cookie. Before, the rekey
// moved the secret under a data key of a random id and n8n answered 401.
// With regenerate, the same cookie is refused (the check can fail).
func TestMFASessionSurvivesKeepRekey(t *testing.T) {
	in := n8nreal.V2(t)
	for _, fixture := range []string{n8ntest.SQLite2x, n8ntest.Postgres2x} {
		t.Run(fixture, func(t *testing.T) {
			r := newFixtureRig(t, in, fixture)
			p := r.start("a")
			totp, err := n8nreal.TOTP(fixtureMFASecret[fixture], time.Now())
			if err != nil {
				t.Fatal(err)
			}
			cookie, status, err := p.LoginCookie(fixtureOwnerEmail, fixtureOwnerPassword, totp)
			if err != nil || status != 200 || cookie == "" {
				t.Fatalf("MFA login before the rekey: status %d (%v), cookie issued %v", status, err, cookie != "")
			}
			r.canaries = append(r.canaries, cookie)
			if status, err := p.Session(cookie); err != nil || status != 200 {
				t.Fatalf("the session before the rekey: status %d (%v)", status, err)
			}
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}

			res := r.bin("a", "rekey", "--to", "file:key_b", "--apply", "--signing-secrets", "keep")
			if res.code != 0 {
				t.Fatalf("rekey --apply: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stdout, "MFA secrets") {
				t.Errorf("the rekey does not say what it does for MFA users:\n%s", res.stdout)
			}
			p = r.start("b")
			if status, err := p.Session(cookie); err != nil || status != 200 {
				t.Errorf("the MFA owner's session after a full keep rekey: status %d (%v), want 200", status, err)
			}
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}

			if fixture != n8ntest.SQLite2x {
				return
			}
			// A third key (the fixture's signing secrets were derived from
			// key a: regenerating to it would bring them back).
			kc := r.canary("keyc") + "-0123456789abcdef"
			r.canaries = append(r.canaries, kc)
			r.plant("key_c", kc)
			r.keys["c"] = kc
			res = r.bin("b", "rekey", "--from", "file:key_b", "--to", "file:key_c", "--apply", "--signing-secrets", "regenerate")
			if res.code != 0 {
				t.Fatalf("rekey --signing-secrets regenerate: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			p = r.start("c")
			if status, err := p.Session(cookie); err != nil || status != 401 {
				t.Errorf("the session after regenerate: status %d (%v), want 401", status, err)
			}
			r.assertNoCanary(p.Output())
		})
	}
}
