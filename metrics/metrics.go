// Package metrics serves the state of a supervised command's secrets as
// Prometheus metrics (the text exposition format, written by
// github.com/VictoriaMetrics/metrics): the age of each variable's value,
// whether its last refresh succeeded, the lease and login-token time left,
// the restarts and their cause, the fingerprint of the encryption key, and
// the failures by code.
//
// It reads a State, which holds names, times, codes and fingerprints and
// never a value: nothing a scrape returns can be a secret. It knows
// nothing of processes, stores or n8n beyond what the State says; the main
// package wires it to supervise mode.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/n8n-secrets/n8n-secrets/watch"
)

// Names of the metrics a scrape returns (besides the process_* and go_*
// metrics of the supervisor process itself). docs/supervise.md has their
// table; examples/monitoring/prometheus-rules.yaml alerts on them.
const (
	// ValueAge: seconds since the value the command runs with was fetched; by var and scheme.
	ValueAge = "n8n_secrets_secret_value_age_seconds"
	// SecretOK: 1 when the last watch or fetch of the variable's secret succeeded, 0 while it fails; by var and scheme.
	SecretOK = "n8n_secrets_secret_ok"
	// SecretPending: 1 when a newer value waits to be applied (or is held back, for the encryption key); by var and scheme.
	SecretPending = "n8n_secrets_secret_pending"
	// LastSuccess: Unix time of the last successful watch or fetch; by var and scheme.
	LastSuccess = "n8n_secrets_secret_last_success_timestamp_seconds"
	// RefreshSuccess: 1 when no secret failed in the last round, else 0.
	RefreshSuccess = "n8n_secrets_last_refresh_success"
	// Refreshes: the refreshes (rounds asking the stores for new versions) so far.
	Refreshes = "n8n_secrets_refreshes_total"
	// LeaseTTL: seconds left on the lease of the variable's value (leased secrets only); by var and scheme.
	LeaseTTL = "n8n_secrets_lease_ttl_seconds"
	// TokenTTL: seconds left on a store's login token (tokens that expire only); by scheme.
	TokenTTL = "n8n_secrets_token_ttl_seconds"
	// CredentialFailures: renewals or logins of a store's token failed in a row; by scheme.
	CredentialFailures = "n8n_secrets_credential_failures"
	// Restarts: the command's restarts with new values, by reason (rotation, lease, credential).
	Restarts = "n8n_secrets_restarts_total"
	// Signals: the signals sent to the command for new values (N8N_SECRETS_ON_CHANGE=signal:NAME), by reason.
	Signals = "n8n_secrets_signals_total"
	// KeyInfo: 1, with the fingerprint of the N8N_ENCRYPTION_KEY the command runs with as a label.
	KeyInfo = "n8n_secrets_key_info"
	// HeldKeyInfo: 1 while the store holds another encryption key than the command's, not rolled out; its fingerprint as a label.
	HeldKeyInfo = "n8n_secrets_held_key_info"
	// Errors: failures of watches, fetches, renewals and logins since the start, by code.
	Errors = "n8n_secrets_errors_total"
)

// Reasons are the causes of a restart that every scrape reports, at 0
// until one happens, so that increase() sees the first.
var Reasons = []string{"rotation", "lease", "credential"}

// State is what a scrape reports: the Keeper's snapshot and the
// fingerprints of the key the command runs with and of a new one held
// back ("" for none).
type State struct {
	Watch              *watch.Snapshot
	KeyFingerprint     string
	HeldKeyFingerprint string
}

// Write writes st in the Prometheus text format, with the ages and times
// left computed at now, followed by the supervisor process's own metrics
// (process_*, go_*).
func Write(w io.Writer, st State, now time.Time) {
	// # HELP and # TYPE lines, from which Prometheus takes the types; the
	// library's default is off. Set here, not in an init: exec mode, which
	// links this package too, pays nothing for it.
	vm.ExposeMetadata(true)
	set := vm.NewSet()
	gauge := func(name string, v float64) {
		set.NewGauge(name, func() float64 { return v })
	}
	counter := func(name string, n int) {
		set.NewCounter(name).Set(uint64(max(n, 0)))
	}
	snap := st.Watch
	if snap == nil {
		snap = &watch.Snapshot{}
	}
	// A variable made of several references (${…} templates) reads
	// several secrets: its series combine them (the oldest value, the
	// worst state, the earliest end).
	perVar := map[string]float64{}
	var order []string
	combine := func(name string, v float64, pick func(a, b float64) float64) {
		if old, ok := perVar[name]; ok {
			perVar[name] = pick(old, v)
			return
		}
		perVar[name] = v
		order = append(order, name)
	}
	ok := 1.0
	for _, s := range snap.Secrets {
		good, pending := 1.0, 0.0
		switch s.State {
		case "failing":
			good, ok = 0, 0
		case "pending":
			pending = 1
		}
		for _, v := range s.Vars {
			labels := labels("var", v, "scheme", s.Scheme)
			combine(ValueAge+labels, seconds(now.Sub(s.ValueSince)), math.Max)
			combine(SecretOK+labels, good, math.Min)
			combine(SecretPending+labels, pending, math.Max)
			if !s.LastOK.IsZero() {
				combine(LastSuccess+labels, float64(s.LastOK.UnixMilli())/1000, math.Min)
			}
			if !s.LeaseExpires.IsZero() {
				combine(LeaseTTL+labels, seconds(s.LeaseExpires.Sub(now)), math.Min)
			}
		}
	}
	for _, name := range order {
		gauge(name, perVar[name])
	}
	gauge(RefreshSuccess, ok)
	counter(Refreshes, snap.Rounds)
	for _, c := range snap.Credentials {
		l := labels("scheme", c.Scheme)
		if !c.Expires.IsZero() {
			gauge(TokenTTL+l, seconds(c.Expires.Sub(now)))
		}
		gauge(CredentialFailures+l, float64(c.Failures))
	}
	for _, r := range keys(snap.Applied, Reasons) {
		counter(Restarts+labels("reason", r), snap.Applied[r])
	}
	for _, r := range keys(snap.Signaled, Reasons) {
		counter(Signals+labels("reason", r), snap.Signaled[r])
	}
	for _, c := range keys(snap.Errors, nil) {
		counter(Errors+labels("code", c), snap.Errors[c])
	}
	if st.KeyFingerprint != "" {
		gauge(KeyInfo+labels("fingerprint", st.KeyFingerprint), 1)
	}
	if st.HeldKeyFingerprint != "" {
		gauge(HeldKeyInfo+labels("fingerprint", st.HeldKeyFingerprint), 1)
	}
	set.WritePrometheus(w)
	vm.WriteProcessMetrics(w)
}

// seconds returns d in seconds, never negative: a lease already ended has
// 0 left.
func seconds(d time.Duration) float64 {
	return math.Max(0, d.Seconds())
}

// keys returns the keys of m and always, sorted.
func keys(m map[string]int, always []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range always {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k := range m {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// labels returns {name="value",…} with each value escaped as the text
// format requires (backslash, double quote, line feed).
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", kv[i], labelEscaper.Replace(kv[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
