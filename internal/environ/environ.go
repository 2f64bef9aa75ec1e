// Package environ holds the environment a command works with, read once:
// the list of NAME=value entries as the process got them (and as the child
// gets them, in the same order), and their lookup by name. Every step of a
// command (the settings, the scan for references, the stores' set-up, the
// n8n guard, the key commands) takes this one value instead of reading
// os.Environ or rebuilding a map of it.
package environ

import "strings"

// Env is an environment. Its zero value is an empty environment. An Env is
// never changed once made: With returns a new one.
type Env struct {
	list []string
	m    map[string]string
}

// New reads list, NAME=value entries, into an Env. Of an entry set twice,
// the first is the one looked up, as getenv(3) does; entries without "="
// are kept in the list and not looked up.
func New(list []string) Env {
	m := make(map[string]string, len(list))
	for _, kv := range list {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
	}
	return Env{list: list, m: m}
}

// List returns the entries, in order. The caller must not change it.
func (e Env) List() []string { return e.list }

// Lookup returns the value of name and whether it is set (even empty).
func (e Env) Lookup(name string) (string, bool) {
	v, ok := e.m[name]
	return v, ok
}

// Get returns the value of name, "" when it is not set.
func (e Env) Get(name string) string { return e.m[name] }

// Map returns the variables by name. The caller must not change it.
func (e Env) Map() map[string]string {
	if e.m == nil {
		return map[string]string{}
	}
	return e.m
}

// Len returns the number of variables set.
func (e Env) Len() int { return len(e.m) }

// Under returns e followed by the entries of extra whose name e does not
// set: e's variables win, extra lies under them.
func (e Env) Under(extra []string) Env {
	out := append([]string(nil), e.list...)
	for _, kv := range extra {
		if k, _, ok := strings.Cut(kv, "="); ok {
			if _, set := e.m[k]; set {
				continue
			}
		}
		out = append(out, kv)
	}
	return New(out)
}
