package vault

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// ProbeName is the made-up secret name whose capabilities tell whether a
// token may read or write beyond the paths it uses. Nothing is read or
// written there: sys/capabilities-self only evaluates the token's policies.
const ProbeName = "n8n-secrets-access-probe"

var _ inject.AccessReviewer = (*Provider)(nil)

// probe is one path whose capabilities are asked for, and what having
// them would mean.
type probe struct {
	path string
	kind string // secret (its data, metadata, versions), list, beyond, admin
	of   string // the logical path or mount it stands for
}

// ReviewAccess asks Vault what the provider's token may do (one
// auth/token/lookup-self and one sys/capabilities-self for every path at
// once) and reports what goes beyond reading refs: the root policy, write,
// delete or destroy on the secrets read (on KV v2 through the data,
// metadata, delete and destroy paths), list on the folders that hold
// them, read anywhere in their mounts (asked for ProbeName at the mount's
// root), write on ACL policies, auth methods or mounts, and a token that
// never expires. It reads nothing else and writes nothing.
func (p *Provider) ReviewAccess(ctx context.Context, refs []inject.Reference) ([]inject.AccessFinding, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	if _, err := p.login(ctx); err != nil {
		return nil, err
	}
	self, err := p.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, classify("token lookup-self", err)
	}
	if self == nil || self.Data == nil {
		return nil, fmt.Errorf("vault: token lookup-self: %w: empty answer", inject.ErrBadData)
	}
	var out []inject.AccessFinding
	policies, _ := self.TokenPolicies()
	if slices.Contains(policies, "root") {
		out = append(out, inject.AccessFinding{Code: CodeTokenRoot,
			Message: "the token holds the root policy: it can read, change and delete everything in Vault",
			Hint:    "give n8n a token (or a login role) whose policy only reads n8n's paths"})
	}
	if ttl, err := self.TokenTTL(); err == nil && ttl == 0 && self.Data["expire_time"] == nil {
		out = append(out, inject.AccessFinding{Code: CodeTokenNoExpiry,
			Message: "the token never expires: a copy of it works for ever",
			Hint:    "log in with AppRole, Kubernetes or JWT auth (short-lived tokens), or give the token a TTL"})
	}
	if len(out) > 0 && out[0].Code == CodeTokenRoot {
		return out, nil // every capability on every path: nothing more to learn
	}
	probes := p.probes(refs)
	paths := make([]string, 0, len(probes))
	for _, pr := range probes {
		paths = append(paths, pr.path)
	}
	sec, err := p.client.Logical().WriteWithContext(ctx, "sys/capabilities-self", map[string]any{"paths": paths})
	if err != nil {
		return nil, classify("sys/capabilities-self", err)
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("vault: sys/capabilities-self: %w: empty answer", inject.ErrBadData)
	}
	grants := map[string][]string{} // by kind+of: "path (caps)"
	var order []string
	note := func(pr probe, caps []string) {
		k := pr.kind + "\x00" + pr.of
		if _, ok := grants[k]; !ok {
			order = append(order, k)
		}
		grants[k] = append(grants[k], pr.path+" ("+strings.Join(caps, ", ")+")")
	}
	for _, pr := range probes {
		caps := capsOf(sec.Data[pr.path])
		if slices.Contains(caps, "deny") {
			continue
		}
		var extra []string
		switch pr.kind {
		case "secret", "admin":
			extra = only(caps, "create", "update", "patch", "delete", "sudo", "root")
		case "list":
			extra = only(caps, "list")
		case "beyond":
			extra = only(caps, "read", "create", "update", "patch", "delete")
		}
		if len(extra) > 0 {
			note(pr, extra)
		}
	}
	for _, k := range order {
		kind, of, _ := strings.Cut(k, "\x00")
		where := strings.Join(grants[k], ", ")
		switch kind {
		case "secret":
			out = append(out, inject.AccessFinding{Code: CodeTokenCanWrite, Path: of,
				Message: fmt.Sprintf("the token can change or delete %s, which it only needs to read: %s", of, where),
				Hint:    "grant only read on n8n's paths"})
		case "list":
			out = append(out, inject.AccessFinding{Code: CodeTokenCanList, Path: of,
				Message: fmt.Sprintf("the token can list %s, the names of the secrets there: %s", of, where),
				Hint:    "grant no list: n8n-secrets reads the paths it is given and never lists"})
		case "beyond":
			out = append(out, inject.AccessFinding{Code: CodeTokenReadsBeyond, Path: of,
				Message: fmt.Sprintf("the token can reach secrets it does not use anywhere in %s: %s", of, where),
				Hint:    "grant read on n8n's own paths (such as secret/data/n8n/*), not on a whole mount"})
		case "admin":
			out = append(out, inject.AccessFinding{Code: CodeTokenCanAdmin, Path: of,
				Message: fmt.Sprintf("the token can administer Vault: %s", where),
				Hint:    "n8n's token needs no sys/ capability"})
		}
	}
	return out, nil
}

// probes lists the paths to ask about for refs.
func (p *Provider) probes(refs []inject.Reference) []probe {
	var out []probe
	seen := map[string]bool{}
	add := func(pr probe) {
		if !seen[pr.path] {
			seen[pr.path] = true
			out = append(out, pr)
		}
	}
	logical := map[string]bool{}
	for _, r := range refs {
		logical[r.Path()] = true
	}
	paths := make([]string, 0, len(logical))
	for l := range logical {
		paths = append(paths, l)
	}
	sort.Strings(paths)
	for _, l := range paths {
		p.mountMu.Lock()
		m, known := p.cached(l)
		p.mountMu.Unlock()
		if !known {
			// No mount lookup succeeded (a token that may not see
			// sys/internal/ui/mounts): take the first segment.
			seg, _, _ := strings.Cut(l, "/")
			m = mount{path: seg + "/"}
		}
		rest := strings.TrimPrefix(l, m.path)
		if m.typ == "kv" && m.version == "2" {
			rest = strings.TrimPrefix(rest, "data/")
			add(probe{m.path + "data/" + rest, "secret", l})
			for _, sub := range []string{"metadata/", "delete/", "undelete/", "destroy/"} {
				add(probe{m.path + sub + rest, "secret", l})
			}
			for _, dir := range parents(rest) {
				add(probe{m.path + "metadata/" + dir, "list", m.path + dir})
			}
			if !logical[m.path+ProbeName] {
				add(probe{m.path + "data/" + ProbeName, "beyond", m.path})
			}
			continue
		}
		add(probe{l, "secret", l})
		for _, dir := range parents(rest) {
			add(probe{m.path + dir, "list", m.path + dir})
		}
		if !logical[m.path+ProbeName] {
			add(probe{m.path + ProbeName, "beyond", m.path})
		}
	}
	for _, a := range []string{"sys/policies/acl/", "sys/auth/", "sys/mounts/"} {
		add(probe{a + ProbeName, "admin", a + "*"})
	}
	return out
}

// parents returns the folders that hold a path within its mount, deepest
// first, each with a trailing slash, the mount's root ("") last.
func parents(rest string) []string {
	var out []string
	for i := strings.LastIndex(rest, "/"); i >= 0; i = strings.LastIndex(rest[:i], "/") {
		out = append(out, rest[:i+1])
	}
	return append(out, "")
}

// capsOf reads a capabilities list of sys/capabilities-self.
func capsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, c := range list {
		if s, ok := c.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// only returns the capabilities of caps that are in want.
func only(caps []string, want ...string) []string {
	var out []string
	for _, c := range caps {
		if slices.Contains(want, c) {
			out = append(out, c)
		}
	}
	return out
}
