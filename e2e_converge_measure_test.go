package main

// What supervise mode costs the store, counted at a proxy in front of the
// real Vault of the tests: the requests of a start, of an idle refresh and
// of a refresh that finds a new version, for 1, 10 and 50 paths, with a
// token and with AppRole (docs/supervise.md quotes one run); and what a
// long Vault outage costs in requests and log lines (a 10-minute run,
// behind N8N_SECRETS_OUTAGE, quoted there too).

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/testproxy"
)

// TestSuperviseRequestsPerRefresh counts, for each path count and auth
// method, the requests of the start, of an idle refresh (one metadata read
// per KV v2 path, nothing else) and of a refresh that finds one new version
// (one read more), and fails when they differ from that.
func TestSuperviseRequestsPerRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Vault and the binary six times")
	}
	ve := newVaultE2E(t)
	ve.v.WritePolicy("converge", convergePolicy)
	roleID, secretID := ve.v.EnableAppRole("n8n", "converge")
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	for i := range 50 {
		ve.v.PutKV(fmt.Sprintf("secret/n8n/p%02d", i), map[string]any{"v": ve.canary(fmt.Sprint("p", i))})
	}
	var table []string
	for _, n := range []int{1, 10, 50} {
		for _, auth := range []string{"token", "approle"} {
			px := testproxy.New(t, ve.v.Addr, 0)
			env := []string{"VAULT_ADDR=" + px.URL, "N8N_SECRETS_REFRESH=300ms"}
			if auth == "token" {
				token := ve.v.Token("converge")
				ve.canaries = append(ve.canaries, token)
				env = append(env, "VAULT_TOKEN="+token)
			} else {
				env = append(env, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID="+roleID, "VAULT_SECRET_ID="+secretID)
			}
			for i := range n {
				env = append(env, fmt.Sprintf("P%02d=vault://secret/n8n/p%02d#v", i, i))
			}
			r := ve.startSupervised(superviseEnv(env...), nil)
			r.waitStarts(1, 30*time.Second)
			meta := func() int { return requests(px, "secret/metadata/n8n/p00", 0) }
			// The start: what came before the first refresh.
			r.waitFor("a first refresh", 30*time.Second, func() bool { return meta() >= 1 })
			start := 0
			for _, q := range px.Requests() {
				if strings.HasPrefix(q.Path, "/v1/secret/metadata/") {
					break
				}
				start++
			}
			r.waitFor("three refreshes", 30*time.Second, func() bool { return meta() >= 3 })
			before, rounds := len(px.Requests()), meta()
			r.waitFor("ten more refreshes", 60*time.Second, func() bool { return meta() >= rounds+10 })
			window := px.Requests()[before:]
			// Each round reads each path's metadata once (the rounds do
			// not line up with the window's ends, so paths are counted,
			// not reads); anything else is counted per round.
			paths, other := map[string]bool{}, 0
			for _, q := range window {
				if strings.HasPrefix(q.Path, "/v1/secret/metadata/") {
					paths[q.Path] = true
				} else {
					other++
				}
			}
			idle := float64(len(paths)) + float64(other)/float64(meta()-rounds)
			// A new version of one path: its read, once.
			reads := requests(px, "secret/data/n8n/", 0)
			ve.v.PutKV("secret/n8n/p00", map[string]any{"v": ve.canary("p0-2")})
			r.waitStarts(2, 30*time.Second)
			changed := requests(px, "secret/data/n8n/", 0) - reads
			if code := r.stop(); code != 0 {
				t.Errorf("exit %d\n%s", code, r.stderr.String())
			}
			// The lookup, a read per path, the token's first renewal
			// (lookup-self, renew-self); with AppRole the login first (the
			// reads are sent with the lookup, but are as many).
			wantStart := 1 + n + 2
			if auth == "approle" {
				wantStart++
			}
			if start != wantStart || idle != float64(n) || changed != 1 {
				t.Errorf("%d paths, %s: start %d requests (want %d), idle refresh %.2f (want %d), a new version %d read (want 1)",
					n, auth, start, wantStart, idle, n, changed)
			}
			table = append(table, fmt.Sprintf("| %d | %s | %d | %.0f | %.0f + %d |", n, auth, start, idle, idle, changed))
		}
	}
	t.Logf("requests, one run:\n| paths | auth | start | idle refresh | refresh with one new version |\n|---|---|---|---|---|\n%s",
		strings.Join(table, "\n"))
}

// TestSuperviseVaultOutage measures what a Vault outage costs: the
// supervised binary, 50 KV v2 paths, a leased secret and an AppRole login
// token, refresh every 5 s, Vault unreachable (connections closed without
// an answer) for N8N_SECRETS_OUTAGE (10m for the figure in
// docs/supervise.md); the requests sent and the lines logged meanwhile
// must stay bounded, and the node must converge once Vault is back.
func TestSuperviseVaultOutage(t *testing.T) {
	outage, err := time.ParseDuration(os.Getenv("N8N_SECRETS_OUTAGE"))
	if err != nil || outage <= 0 {
		t.Skip("set N8N_SECRETS_OUTAGE (such as 10m) to measure an outage of that length")
	}
	ve := newVaultE2E(t)
	ve.v.MountLeasedKV("leased", "24h")
	ve.v.Write("leased/n8n/db", map[string]any{"password": ve.canary("leased"), "ttl": "6m"})
	ve.v.WritePolicy("converge", convergePolicy)
	roleID, secretID := ve.v.EnableAppRole("n8n", "converge")
	if _, err := ve.v.Client().Logical().Write("auth/approle/role/n8n", map[string]any{
		"token_policies": []string{"converge"}, "token_ttl": "6m", "token_max_ttl": "24h"}); err != nil {
		t.Fatal(err)
	}
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	env := []string{"VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID=" + roleID, "VAULT_SECRET_ID=" + secretID,
		"DB_POSTGRESDB_PASSWORD=vault://leased/n8n/db#password", "N8N_SECRETS_REFRESH=5s", "N8N_SECRETS_LOG_LEVEL=info"}
	for i := range 50 {
		ve.v.PutKV(fmt.Sprintf("secret/n8n/p%02d", i), map[string]any{"v": ve.canary(fmt.Sprint("p", i))})
		env = append(env, fmt.Sprintf("P%02d=vault://secret/n8n/p%02d#v", i, i))
	}
	px := testproxy.New(t, ve.v.Addr, 0)
	r := ve.startSupervised(superviseEnv(append(env, "VAULT_ADDR="+px.URL)...), nil)
	r.waitStarts(1, 30*time.Second)
	r.waitFor("two refreshes", 60*time.Second, func() bool { return requests(px, "secret/metadata/n8n/p00", 0) >= 2 })

	lines := func() int { return strings.Count(r.stderr.String(), "\n") }
	px.SetDown(true)
	sent, logged, began := len(px.Requests()), lines(), time.Now()
	time.Sleep(outage)
	during, loggedDuring := len(px.Requests())-sent, lines()-logged
	px.SetDown(false)
	t.Logf("a %v outage: %d requests sent, %d lines logged (refresh 5 s, 50 paths, a lease, an AppRole token)",
		time.Since(began).Round(time.Second), during, loggedDuring)
	kinds := map[string]int{}
	for _, q := range px.Requests()[sent : sent+during] {
		kind := strings.TrimPrefix(q.Path, "/v1/")
		if strings.HasPrefix(kind, "secret/metadata/") {
			kind = "secret/metadata/*"
		}
		kinds[kind]++
	}
	t.Logf("requests during the outage, by path: %v", kinds)
	var codes []string
	for _, line := range strings.Split(r.stderr.String(), "\n")[logged:] {
		if i := strings.Index(line, `"code":"`); i >= 0 {
			codes = append(codes, strings.SplitN(line[i+8:], `"`, 2)[0])
		}
	}
	t.Logf("codes logged during the outage: %v", codes)
	if os.Getenv("N8N_SECRETS_OUTAGE_LOG") != "" {
		t.Logf("log:\n%s", strings.Join(strings.Split(r.stderr.String(), "\n")[logged:], "\n"))
	}
	// Without backoff: 50 metadata reads every 5 s, 6,000 in 10 minutes,
	// and a warning per secret.
	if limit := 60 + int(outage/(10*time.Second)); during > limit {
		t.Errorf("%d requests during a %v outage, want at most %d", during, outage, limit)
	}
	if loggedDuring > 20 {
		t.Errorf("%d lines logged during the outage, want at most 20", loggedDuring)
	}
	// Back: the node converges (the store is probed on its backoff, at
	// most 5 minutes apart).
	p2 := ve.canary("p0-2")
	ve.v.PutKV("secret/n8n/p00", map[string]any{"v": p2})
	starts := r.waitStarts(2, 7*time.Minute)
	if childEnv(starts[1])["P00"] != p2 {
		t.Error("after the outage, the new version did not reach the child")
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
}
