package main

// End-to-end tests of check's least-privilege review against a real Vault:
// a read-only AppRole login (nothing to report, and its token revoked after
// the review), a root token and a too-wide policy (warnings, exit code
// unchanged), in the table and in --json.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLeastPrivilege(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.WritePolicy("n8n-wide", `path "secret/data/n8n/*" { capabilities = ["read", "update"] }
path "secret/metadata/*" { capabilities = ["list"] }
path "kv1/*" { capabilities = ["read"] }`)
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-read")
	wide := ve.v.Token("n8n-wide")
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken, wide)

	type report struct {
		OK     bool `json:"ok"`
		Access []struct {
			Scheme, Severity, Code, Path string
		} `json:"least_privilege"`
	}
	check := func(t *testing.T, env ...string) (result, report) {
		t.Helper()
		r := ve.run(append(ve.refs(), env...), "check", "--json")
		var rep report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("check --json: %v (exit %d)", err, r.code)
		}
		return r, rep
	}
	codes := func(rep report) []string {
		var out []string
		for _, a := range rep.Access {
			if a.Scheme != "vault" || a.Severity != "warning" {
				t.Errorf("row %+v: want a vault warning", a)
			}
			out = append(out, a.Code)
		}
		return out
	}

	t.Run("read-only approle", func(t *testing.T) {
		ve.plant("vault_role_id", roleID)
		ve.plant("vault_secret_id", secretID)
		t.Cleanup(func() {
			os.Remove(filepath.Join(ve.dir, "vault_role_id"))
			os.Remove(filepath.Join(ve.dir, "vault_secret_id"))
		})
		before := ve.accessors()
		r, rep := check(t, "VAULT_AUTH_METHOD=approle")
		if r.code != 0 || !rep.OK || len(rep.Access) != 0 {
			t.Errorf("exit %d, ok %v, least privilege %v: want a clean review", r.code, rep.OK, rep.Access)
		}
		for a := range ve.accessors() {
			if !before[a] {
				t.Errorf("token %s of the login outlived check: the review must run before the revocation, not skip it", a)
			}
		}
		r = ve.run(append(ve.refs(), "VAULT_AUTH_METHOD=approle"), "check")
		if !strings.Contains(r.stdout, "least privilege:\n  the credentials reach no further than the secrets read") {
			t.Errorf("table: no clean least-privilege section:\n%s", r.stdout)
		}
	})

	t.Run("root token", func(t *testing.T) {
		r, rep := check(t, "VAULT_TOKEN="+ve.v.RootToken)
		got := strings.Join(codes(rep), ",")
		if r.code != 0 || !rep.OK || !strings.Contains(got, "VAULT_TOKEN_ROOT") {
			t.Errorf("exit %d, ok %v, codes %s: want VAULT_TOKEN_ROOT as a warning and exit 0", r.code, rep.OK, got)
		}
	})

	t.Run("too wide", func(t *testing.T) {
		r, rep := check(t, "VAULT_TOKEN="+wide)
		got := strings.Join(codes(rep), ",")
		for _, want := range []string{"VAULT_TOKEN_CAN_WRITE", "VAULT_TOKEN_CAN_LIST", "VAULT_TOKEN_READS_BEYOND"} {
			if !strings.Contains(got, want) {
				t.Errorf("codes %s: no %s", got, want)
			}
		}
		if r.code != 0 {
			t.Errorf("exit %d: warnings must not fail check", r.code)
		}
		r = ve.run(append(ve.refs(), "VAULT_TOKEN="+wide), "check")
		if !strings.Contains(r.stdout, "warning VAULT_TOKEN_CAN_WRITE (vault): the token can change or delete secret/n8n/core") {
			t.Errorf("table: no VAULT_TOKEN_CAN_WRITE line:\n%s", r.stdout)
		}
	})
}
