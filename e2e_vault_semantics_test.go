package main

// End-to-end tests of the Vault provider's semantics and hardening through
// the real binary, against the real Vault: where requests may go (agent,
// proxy, redirect), permanent faults failing at once with their codes,
// what Vault's answers mean (mount roots, wrapping, bad tokens, deleted
// versions, 4xx, huge answers, nulls), and check's request count.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// vaultCase is one run of the binary and what it must show.
type vaultCase struct {
	name    string
	env     []string
	code    int
	errCode string   // the failure's code in the log
	want    []string // texts the log must hold
	absent  []string // variables the child must not get
}

func (ve *vaultE2E) runCases(t *testing.T, base []string, cases []vaultCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			env := dedupeEnv(append(append([]string{}, base...), tt.env...))
			r := ve.run(env, "--", self(t))
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			if (r.child != nil) != (tt.code == 0) {
				t.Errorf("child started: %v", r.child != nil)
			}
			if tt.code != 0 && strings.Contains(r.stderr, `"msg":"retrying"`) {
				t.Errorf("a permanent fault was retried:\n%s", r.stderr)
			}
			if tt.errCode != "" && !strings.Contains(r.stderr, `"code":"`+tt.errCode+`"`) {
				t.Errorf("log lacks code %s:\n%s", tt.errCode, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("log lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.child != nil {
				for _, name := range tt.absent {
					if _, ok := envOf(r.child)[name]; ok {
						t.Errorf("the child got %s", name)
					}
				}
			}
		})
	}
}

// TestVaultAddressesRefused: the token never leaves for a non-loopback
// http:// address, however the request would get there. Names under
// .invalid never resolve: the refusal (64, at once, no retry) comes before
// any lookup.
func TestVaultAddressesRefused(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.canary("token")
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://vault.invalid:8200"+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	base := []string{"K=vault://secret/n8n/db", "VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + tok, "N8N_SECRETS_N8N=off", "N8N_SECRETS_TIMEOUT=20s"}
	ve.runCases(t, base, []vaultCase{
		{"agent address", []string{"VAULT_AGENT_ADDR=http://agent.invalid:8100"}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"VAULT_AGENT_ADDR uses plain http:// to agent.invalid"}, nil},
		{"proxy address", []string{"VAULT_PROXY_ADDR=http://proxy.invalid:3128"}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"the proxy for VAULT_ADDR uses plain http:// to proxy.invalid"}, nil},
		{"vault http proxy", []string{"VAULT_HTTP_PROXY=http://proxy.invalid:3128"}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"the proxy for VAULT_ADDR uses plain http:// to proxy.invalid"}, nil},
		{"redirect target", []string{"VAULT_ADDR=" + redirect.URL}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"a redirect from Vault uses plain http:// to vault.invalid"}, nil},
		{"srv lookup", []string{"VAULT_SRV_LOOKUP=true"}, 64, "PROVIDER_NOT_CONFIGURED", []string{"VAULT_SRV_LOOKUP"}, nil},
	})
}

// TestVaultPermanentFaultsAtOnce: local mistakes fail at once with their
// code and name the problem; they are never retried as outages.
func TestVaultPermanentFaultsAtOnce(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, tok)
	bad := ve.plant("bad_token", tok[:4]+"\x07"+tok[4:]+"\n")
	good := ve.plant("good_token", tok+"\n")
	base := []string{"K=vault://secret/n8n/db", "VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + tok, "N8N_SECRETS_N8N=off", "N8N_SECRETS_TIMEOUT=20s"}
	ve.runCases(t, base, []vaultCase{
		{"https to plain http", []string{"VAULT_ADDR=" + strings.Replace(ve.v.Addr, "http://", "https://", 1)}, 64,
			"PROVIDER_NOT_CONFIGURED", []string{"does not speak TLS", `"hint":"VAULT_ADDR says https://`}, nil},
		{"token with a newline", []string{"VAULT_TOKEN=" + tok + "\n"}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"VAULT_TOKEN ends with a newline"}, nil},
		{"token with a control character", []string{"VAULT_TOKEN=" + tok[:4] + "\x01" + tok[4:]}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"VAULT_TOKEN holds a control character"}, nil},
		{"token file with a control character", []string{"VAULT_TOKEN=", "VAULT_TOKEN_FILE=" + bad}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"(for VAULT_TOKEN) holds a control character"}, nil},
		{"token file ending in a newline works", []string{"VAULT_TOKEN=", "VAULT_TOKEN_FILE=" + good}, 0, "", nil, nil},
		{"malformed library setting", []string{"VAULT_MAX_RETRIES=many"}, 64, "PROVIDER_NOT_CONFIGURED",
			[]string{"VAULT_MAX_RETRIES must be a whole number"}, nil},
		{"a 400 from Vault", []string{"K=vault://sys/wrapping/lookup", "VAULT_TOKEN=" + ve.v.RootToken}, 65, "BAD_REFERENCE",
			[]string{"HTTP 400"}, nil},
	})
}

// TestVaultAnswersMeaning: what Vault's answers mean, through the binary.
func TestVaultAnswersMeaning(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.PutKV("secret/secret", map[string]any{"k": ve.canary("wrong")})
	ve.v.PutKV("secret/n8n/nulls", map[string]any{"k": nil, "j": ve.canary("j")})
	ve.v.PutKV("secret/n8n/gone", map[string]any{"k": ve.canary("gone")})
	if _, err := ve.v.Client().Logical().Delete("secret/data/n8n/gone"); err != nil {
		t.Fatal(err)
	}
	huge := map[string]any{}
	for _, k := range "abcdefghij" {
		huge[string(k)] = strings.Repeat("x", 1000<<10)
	}
	ve.v.PutKV("secret/n8n/huge", huge)
	base := []string{"VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + ve.v.RootToken, "N8N_SECRETS_N8N=off", "N8N_SECRETS_TIMEOUT=20s"}
	ve.canaries = append(ve.canaries, ve.v.RootToken)
	ve.runCases(t, base, []vaultCase{
		{"a mount is no secret", []string{"K=vault://secret#k"}, 65, "BAD_REFERENCE", []string{"is the path of the mount secret/ itself"}, nil},
		{"wrapping asked for by the environment", append(ve.refs(), "VAULT_WRAP_TTL=5m"), 0, "VAULT_ENV_IGNORED", nil, nil},
		{"invalid token", []string{"K=vault://secret/n8n/core?version=1#encryption_key", "VAULT_TOKEN=hvs.nope"}, 77, "AUTH_FAILED",
			[]string{"Vault does not accept the token", `"hint":"Vault does not accept the token`}, nil},
		{"no engine mounted", []string{"K=vault://kv/n8n/db"}, 65, "SECRET_NOT_FOUND",
			[]string{"no secrets engine is mounted at kv/", "vault secrets enable -path=kv"}, nil},
		{"deleted version", []string{"K=vault://secret/n8n/gone#k"}, 65, "SECRET_NOT_FOUND", []string{"version 1 was deleted at", "vault kv undelete"}, nil},
		{"null key", []string{"K=vault://secret/n8n/nulls#k"}, 65, "KEY_NOT_FOUND", []string{`key \"k\" is null`}, nil},
		{"null key, optional", []string{"K=vault://secret/n8n/nulls?optional=true#k"}, 0, "", nil, []string{"K"}},
		{"answer over 8 MiB", []string{"K=vault://secret/n8n/huge#a"}, 65, "BAD_DATA", []string{"larger than 8 MiB"}, nil},
	})
}

// TestVaultCheckReportsRequests: check prints the requests sent to Vault:
// a token user's KV v2 secret costs two requests (the mount lookup, then
// the read: no speculative read with a token whose uses may be limited).
func TestVaultCheckReportsRequests(t *testing.T) {
	ve := newVaultE2E(t)
	tok := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, tok)
	env := []string{"K=vault://secret/n8n/db", "VAULT_ADDR=" + ve.v.Addr, "VAULT_TOKEN=" + tok, "N8N_SECRETS_N8N=off"}
	r := ve.run(env, "check")
	if r.code != 0 || !strings.Contains(r.stdout, "vault: 2 requests") {
		t.Errorf("check must report 2 requests to Vault, exit 0; got %d\n%s", r.code, r.stdout)
	}
	r = ve.run(append(env, "L=vault://kv1/n8n/redis#password"), "check", "--json")
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || rep.Requests["vault"] != 4 {
		t.Errorf("check --json: want 4 requests (2 lookups, 2 reads): %v\n%s", err, r.stdout)
	}
}
