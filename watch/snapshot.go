package watch

import (
	"maps"
	"sort"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Snapshot is the state of a Keeper at the end of its last round (a
// refresh, a renewal, a change applied or dropped): what a metrics
// endpoint reports. A published Snapshot is never changed: Keeper.Snapshot
// returns it with an atomic load, without locks, from any goroutine. It
// holds no value, only names, times and codes.
type Snapshot struct {
	Taken   time.Time
	Rounds  int // refreshes so far
	Secrets []SecretState
	// Credentials are the stores' login credentials (a Vault token).
	Credentials []CredentialState
	// Errors counts failures by code since the start: watches, fetches,
	// renewals, logins.
	Errors map[string]int
	// Applied counts the sets of values the command was restarted with,
	// by reason ("rotation", "lease", "credential"): its restarts and
	// their cause.
	Applied map[string]int
	// Signaled counts the sets of values the command was signaled for
	// (N8N_SECRETS_ON_CHANGE=signal:NAME), by reason.
	Signaled map[string]int
}

// SecretState is one secret (one fetch key) in a Snapshot.
type SecretState struct {
	Scheme string
	Path   string
	Vars   []string
	// State is "current" (the command runs with what the store holds),
	// "pending" (a newer value waits to be applied, or is held back), or
	// "failing" (the last fetch or watch failed: the command keeps its
	// last good value).
	State string
	// ValueSince is when the value the command runs with was fetched.
	ValueSince time.Time
	// LastOK is the last successful watch or fetch.
	LastOK time.Time
	// ErrorCode is the code of the failure, while State is "failing";
	// FailingSince its first occurrence, NextRetry when it is tried again.
	ErrorCode    inject.Code
	FailingSince time.Time
	NextRetry    time.Time
	// LeaseExpires is when the lease of the command's value ends; zero
	// for a secret without a lease.
	LeaseExpires time.Time
}

// CredentialState is one store's login credential in a Snapshot.
type CredentialState struct {
	Scheme    string
	Expires   time.Time // zero: unknown, or it does not expire
	NextRenew time.Time // zero: never
	LastOK    time.Time
	Failures  int // renewals or logins failed in a row
	ErrorCode inject.Code
}

// Snapshot returns the state published at the end of the last round. It
// is safe to call from any goroutine.
func (k *Keeper) Snapshot() *Snapshot { return k.snap.Load() }

// publish stores a new Snapshot of the Keeper's state.
func (k *Keeper) publish() {
	now := time.Now()
	snap := &Snapshot{Taken: now, Rounds: k.rounds, Errors: maps.Clone(k.errCounts), Applied: maps.Clone(k.adopted),
		Signaled: maps.Clone(k.signaled)}
	for _, s := range k.secrets {
		st := SecretState{Scheme: s.key.Scheme, Path: s.key.Path(), Vars: append([]string(nil), s.vars...), State: "current",
			ValueSince: s.valueAt, LastOK: s.okAt}
		if s.next != nil {
			st.State = "pending"
		}
		if s.failing() {
			st.State = "failing"
			st.ErrorCode = s.logged
			st.FailingSince, st.NextRetry = s.since, s.retryAt
		}
		if ls := k.leaseOf(s.applied); ls != nil {
			st.LeaseExpires = ls.expires
		}
		snap.Secrets = append(snap.Secrets, st)
	}
	for scheme, c := range k.creds {
		snap.Credentials = append(snap.Credentials, CredentialState{Scheme: scheme, Expires: c.expires, NextRenew: c.next,
			LastOK: c.lastOK, Failures: c.failures, ErrorCode: c.code})
	}
	sort.Slice(snap.Credentials, func(i, j int) bool { return snap.Credentials[i].Scheme < snap.Credentials[j].Scheme })
	k.snap.Store(snap)
}
