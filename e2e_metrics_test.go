package main

// The metrics endpoint of supervise mode (N8N_SECRETS_METRICS_ADDR),
// scraped during a supervised run against the real Vault of the tests:
// each metric's value checked at start, after a rotation (a new KV v2
// version, a restart), after a refresh that fails, and with a new
// encryption key held back; every scrape checked for the planted values.

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// scrapedNames records the metric names every scrape of a run returned.
var scrapedNames = struct {
	sync.Mutex
	m map[*supervised]map[string]bool
}{m: map[*supervised]map[string]bool{}}

// scrape GETs the endpoint's /metrics and returns every sample by its
// name and labels as written, after checking the body for canaries.
func (r *supervised) scrape(addr string) map[string]float64 {
	r.e.t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		r.e.t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		r.e.t.Fatalf("scraping: %d %v", resp.StatusCode, err)
	}
	r.e.assertNoCanary(string(body))
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			r.e.t.Fatalf("scraping: not a sample line: %.100q", line)
		}
		out[line[:i]] = v
		name, _, _ := strings.Cut(line[:i], "{")
		scrapedNames.Lock()
		if scrapedNames.m[r] == nil {
			scrapedNames.m[r] = map[string]bool{}
		}
		scrapedNames.m[r][name] = true
		scrapedNames.Unlock()
	}
	return out
}

// ruleMetric matches the metric names an alert rule's expression can
// name: ours, the process's, Go's, and up (which Prometheus adds to every
// scrape). promtool check rules parses the expressions
// (examples/monitoring_test.go); this checks the names.
var ruleMetric = regexp.MustCompile(`\b(n8n_secrets_[a-z_]+|process_[a-z_]+|go_[a-z_]+|up)\b`)

// checkRuleNames checks that every metric examples/monitoring/
// prometheus-rules.yaml alerts on is one the binary exposed (seen).
func checkRuleNames(t *testing.T, seen map[string]bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("examples", "monitoring", "prometheus-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("prometheus-rules.yaml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			names := ruleMetric.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("rule %s names no metric of n8n-secrets", r.Alert)
			}
			for _, name := range names {
				if name != "up" && !seen[name] {
					t.Errorf("rule %s alerts on %s, which the binary does not expose", r.Alert, name)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("prometheus-rules.yaml: %d rules: is the scan broken?", n)
	}
}

// metricsAddr waits for the METRICS_LISTENING event and returns its
// address.
func (r *supervised) metricsAddr() string {
	r.e.t.Helper()
	r.waitFor("METRICS_LISTENING", 30*time.Second, func() bool { return r.logged("METRICS_LISTENING") })
	addr, _ := r.logEvents("METRICS_LISTENING")[0]["addr"].(string)
	return addr
}

// waitMetric scrapes until cond holds for the samples.
func (r *supervised) waitMetric(addr, what string, timeout time.Duration, cond func(m map[string]float64) bool) map[string]float64 {
	r.e.t.Helper()
	var m map[string]float64
	r.waitFor(what, timeout, func() bool {
		m = r.scrape(addr)
		return cond(m)
	})
	return m
}

const metricsPolicy = `path "secret/data/n8n/*" { capabilities = ["read"] }
path "secret/metadata/n8n/*" { capabilities = ["read"] }
path "kv1/n8n/*" { capabilities = ["read"] }
path "leased/n8n/*" { capabilities = ["read"] }
path "sys/leases/revoke" { capabilities = ["update"] }`

func TestSuperviseMetricsScrape(t *testing.T) {
	ve := newVaultE2E(t)
	ve.v.MountLeasedKV("leased", "1h")
	lease := ve.canary("leased")
	ve.v.Write("leased/n8n/smtp", map[string]any{"password": lease, "ttl": "40s"})
	ve.v.WritePolicy("n8n-metrics", metricsPolicy)
	roleID, secretID := ve.v.EnableAppRole("n8n", "n8n-metrics")
	ve.canaries = append(ve.canaries, roleID, secretID, ve.v.RootToken)
	r := ve.startSupervised(superviseEnv("VAULT_ADDR="+ve.v.Addr, "VAULT_AUTH_METHOD=approle", "VAULT_ROLE_ID="+roleID,
		"VAULT_SECRET_ID="+secretID,
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key",
		"DB_POSTGRESDB_PASSWORD=vault://secret/n8n/db#password",
		"QUEUE_BULL_REDIS_PASSWORD=vault://kv1/n8n/redis#password",
		"N8N_SMTP_PASS=vault://leased/n8n/smtp#password",
		"N8N_SECRETS_N8N=auto", "N8N_SECRETS_VERIFY_KEY=off", "N8N_SECRETS_REFRESH=300ms",
		"N8N_SECRETS_METRICS_ADDR=:0", "E2E_CHILD_EXIT=0"), nil)
	r.waitStarts(1, 30*time.Second)
	addr := r.metricsAddr()
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("N8N_SECRETS_METRICS_ADDR=:0 listens on %s: want loopback", addr)
	}
	const (
		age     = `n8n_secrets_secret_value_age_seconds{var="%s",scheme="vault"}`
		ok      = `n8n_secrets_secret_ok{var="%s",scheme="vault"}`
		rotated = `n8n_secrets_restarts_total{reason="rotation"}`
		refresh = `n8n_secrets_last_refresh_success`
	)
	v := func(format, name string) string { return strings.Replace(format, "%s", name, 1) }
	fp := `n8n_secrets_key_info{fingerprint="` + n8n.Fingerprint(ve.key) + `"}`

	// At start: every secret good, no restart, the key's fingerprint, the
	// lease and the token with their time left.
	m := r.waitMetric(addr, "a first refresh", 30*time.Second, func(m map[string]float64) bool {
		return m["n8n_secrets_refreshes_total"] >= 1
	})
	for _, name := range []string{"N8N_ENCRYPTION_KEY", "DB_POSTGRESDB_PASSWORD", "QUEUE_BULL_REDIS_PASSWORD", "N8N_SMTP_PASS"} {
		if m[v(ok, name)] != 1 {
			t.Errorf("at start: %s = %v, want 1", v(ok, name), m[v(ok, name)])
		}
		if a, found := m[v(age, name)]; !found || a < 0 || a > 60 {
			t.Errorf("at start: %s = %v (found %v), want the seconds since the start", v(age, name), a, found)
		}
	}
	if m[refresh] != 1 || m[rotated] != 0 || m[fp] != 1 {
		t.Errorf("at start: %s %v, %s %v, %s %v", refresh, m[refresh], rotated, m[rotated], fp, m[fp])
	}
	if ttl := m[`n8n_secrets_lease_ttl_seconds{var="N8N_SMTP_PASS",scheme="vault"}`]; ttl <= 0 || ttl > 40 {
		t.Errorf("lease TTL %v, want within the lease's 40 s", ttl)
	}
	if _, found := m[v(`n8n_secrets_lease_ttl_seconds{var="%s",scheme="vault"}`, "DB_POSTGRESDB_PASSWORD")]; found {
		t.Error("a lease TTL for a KV v2 secret, which has no lease")
	}
	if ttl := m[`n8n_secrets_token_ttl_seconds{scheme="vault"}`]; ttl <= 3000 || ttl > 3600 {
		t.Errorf("token TTL %v, want about the AppRole token's 1h", ttl)
	}
	for k := range m {
		if strings.HasPrefix(k, "n8n_secrets_held_key_info") {
			t.Errorf("%s with no new key in the store", k)
		}
	}

	// A rotation: a new KV v2 version, a restart. The restart counter and
	// its cause, the age of the new value reset, the others untouched.
	time.Sleep(2 * time.Second)
	before := r.scrape(addr)
	db2 := ve.canary("db2")
	written := time.Now()
	ve.v.PutKV("secret/n8n/db", map[string]any{"password": db2})
	r.waitStarts(2, 30*time.Second)
	r.waitMetric(addr, "the restart counted", 30*time.Second, func(m map[string]float64) bool { return m[rotated] == 1 })
	// Load-proof bounds: the new value was fetched after it was written,
	// the unchanged one before.
	t0 := time.Since(written).Seconds()
	m = r.scrape(addr)
	t1 := time.Since(written).Seconds()
	if got := m[v(age, "DB_POSTGRESDB_PASSWORD")]; got > t1 {
		t.Errorf("after the rotation the new value's age is %v s: it was written %v s before the scrape ended (age before: %v)",
			got, t1, before[v(age, "DB_POSTGRESDB_PASSWORD")])
	}
	if got := m[v(age, "QUEUE_BULL_REDIS_PASSWORD")]; got < t0 || got < before[v(age, "QUEUE_BULL_REDIS_PASSWORD")] {
		t.Errorf("an unchanged secret's age is %v s: reset by another's rotation (written %v s before the scrape)", got, t0)
	}
	if m[v(ok, "DB_POSTGRESDB_PASSWORD")] != 1 || m[refresh] != 1 || m[fp] != 1 {
		t.Errorf("after the rotation: ok %v, refresh %v, key %v", m[v(ok, "DB_POSTGRESDB_PASSWORD")], m[refresh], m[fp])
	}
	for _, reason := range []string{"lease", "credential"} {
		if n := m[`n8n_secrets_restarts_total{reason="`+reason+`"}`]; n != 0 {
			t.Errorf("restarts for %s: %v, want 0", reason, n)
		}
	}
	if ttl := m[`n8n_secrets_lease_ttl_seconds{var="N8N_SMTP_PASS",scheme="vault"}`]; ttl <= 0 || ttl > 40 {
		t.Errorf("lease TTL after the restart: %v, want within 40 s", ttl)
	}

	// A refresh that fails: the key the reference names is gone from the
	// new version. The secret is failing, the refresh is not a success,
	// the failure counted by its code; the command is not restarted.
	ve.v.PutKV("secret/n8n/db", map[string]any{"pass": ve.canary("typo")})
	m = r.waitMetric(addr, "the failure counted", 30*time.Second, func(m map[string]float64) bool {
		return m[`n8n_secrets_errors_total{code="KEY_NOT_FOUND"}`] >= 1
	})
	if m[v(ok, "DB_POSTGRESDB_PASSWORD")] != 0 || m[refresh] != 0 || m[v(ok, "QUEUE_BULL_REDIS_PASSWORD")] != 1 {
		t.Errorf("after a failed refresh: ok %v, refresh %v, other ok %v",
			m[v(ok, "DB_POSTGRESDB_PASSWORD")], m[refresh], m[v(ok, "QUEUE_BULL_REDIS_PASSWORD")])
	}
	if m[rotated] != 1 {
		t.Errorf("restarts %v after a failed refresh, want still 1", m[rotated])
	}

	// A new encryption key in the store: never rolled out, its
	// fingerprint shown beside the one the command runs with.
	newKey := ve.canary("newkey")
	ve.v.PutKV("secret/n8n/core", map[string]any{"encryption_key": newKey})
	held := `n8n_secrets_held_key_info{fingerprint="` + n8n.Fingerprint(newKey) + `"}`
	m = r.waitMetric(addr, "the held key", 30*time.Second, func(m map[string]float64) bool { return m[held] == 1 })
	if m[fp] != 1 || m[rotated] != 1 {
		t.Errorf("with a new key held back: key %v, restarts %v", m[fp], m[rotated])
	}
	if code := r.stop(); code != 0 {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	// Every metric of the package was seen in this run, and every one the
	// alert rules name.
	scrapedNames.Lock()
	seen := scrapedNames.m[r]
	scrapedNames.Unlock()
	var missing []string
	for _, name := range []string{metrics.ValueAge, metrics.SecretOK, metrics.SecretPending, metrics.LastSuccess,
		metrics.RefreshSuccess, metrics.Refreshes, metrics.LeaseTTL, metrics.TokenTTL, metrics.CredentialFailures,
		metrics.Restarts, metrics.Signals, metrics.KeyInfo, metrics.HeldKeyInfo, metrics.Errors} {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("metrics never scraped in the run: %s", strings.Join(missing, ", "))
	}
	checkRuleNames(t, seen)
	// The endpoint ends with the supervisor.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the metrics endpoint outlived the supervisor")
	}
}

// TestSuperviseMetricsSettings: a bad address, an address in use, or the
// endpoint asked for in exec mode is a usage error naming the setting;
// nothing is started.
func TestSuperviseMetricsSettings(t *testing.T) {
	e := newE2E(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	for _, tc := range []struct {
		env  []string
		args []string
		want []string
	}{
		{[]string{"N8N_SECRETS_MODE=supervise", "N8N_SECRETS_METRICS_ADDR=metrics.example:9464"}, nil,
			[]string{"N8N_SECRETS_METRICS_ADDR", "IP address"}},
		{[]string{"N8N_SECRETS_MODE=supervise", "N8N_SECRETS_METRICS_ADDR=9464"}, nil, []string{"N8N_SECRETS_METRICS_ADDR", "[HOST]:PORT"}},
		{[]string{"N8N_SECRETS_MODE=supervise", "N8N_SECRETS_METRICS_ADDR=:70000"}, nil, []string{"N8N_SECRETS_METRICS_ADDR", "port"}},
		{[]string{"N8N_SECRETS_MODE=supervise"}, []string{"--metrics-addr", "nohost"}, []string{"argument 2 (--metrics-addr)", "[HOST]:PORT"}},
		{[]string{"N8N_SECRETS_METRICS_ADDR=:9464"}, nil, []string{"N8N_SECRETS_METRICS_ADDR", "supervise mode only"}},
		{[]string{"N8N_SECRETS_MODE=supervise", "N8N_SECRETS_METRICS_ADDR=:" + port}, nil, []string{"N8N_SECRETS_METRICS_ADDR", "in use"}},
	} {
		args := append(tc.args, "--", self(t))
		r := e.run(append([]string{"E2E_CHILD_MODE=serve", "DB_POSTGRESDB_PASSWORD=file:db"}, tc.env...), args...)
		if r.code != 64 {
			t.Errorf("%v %v: exit %d, want 64\n%s", tc.env, tc.args, r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v %v: the message lacks %q:\n%s", tc.env, tc.args, w, r.stderr)
			}
		}
		if r.child != nil {
			t.Errorf("%v %v: the command was started", tc.env, tc.args)
		}
		// Decided before any fetch: the missing file was never read.
		if strings.Contains(r.stderr, "SECRET_NOT_FOUND") {
			t.Errorf("%v %v: secrets were fetched before the setting was refused:\n%s", tc.env, tc.args, r.stderr)
		}
	}
}
