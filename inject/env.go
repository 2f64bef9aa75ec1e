package inject

import (
	"path"
	"strings"
)

// BuildEnv returns the child's environment: environ with each resolved
// variable's value in place of its reference (a template's value built
// from its references' values), NAME_FILE replaced by NAME (at NAME_FILE's
// position), optional variables that were missing left out (a template
// with a missing optional reference too), and every other variable for
// which remove returns true left out (the injector's own settings,
// provider credentials); then the variables of env-from secrets that
// environ does not set, in the order of EnvFromLayout, remove applying to
// them too. Later duplicates of a name are dropped, as [Scan] ignores
// them. Every result must have succeeded: BuildEnv is called only once
// resolution had no error.
func BuildEnv(environ []string, results []Result, remove func(name string) bool) []string {
	byVar := map[string]*Result{}
	byFileVar := map[string]*Result{}
	parts := map[string][]*Result{} // a template's references, by variable
	for i := range results {
		r := &results[i]
		switch {
		case r.EnvFrom:
		case r.FileVar != "":
			byFileVar[r.FileVar] = r
		case r.Template != nil:
			parts[r.Var] = append(parts[r.Var], r)
		default:
			byVar[r.Var] = r
		}
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(environ))
	put := func(r *Result) {
		if !r.Removed && r.Err == nil && !seen[r.Var] {
			out = append(out, r.Var+"="+string(r.Value.Reveal()))
		}
		seen[r.Var] = true
	}
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || seen[k] {
			continue
		}
		switch {
		case byFileVar[k] != nil:
			seen[k] = true
			put(byFileVar[k])
		case byVar[k] != nil:
			put(byVar[k])
		case parts[k] != nil:
			seen[k] = true
			if v, ok := render(parts[k]); ok {
				out = append(out, k+"="+string(v))
			}
		case remove != nil && remove(k):
			seen[k] = true
		default:
			seen[k] = true
			out = append(out, kv)
		}
	}
	for _, e := range EnvFromLayout(environ, results) {
		if e.ShadowedBy != "" || seen[e.Name] || (remove != nil && remove(e.Name)) {
			continue
		}
		seen[e.Name] = true
		out = append(out, e.Name+"="+string(e.Value.Reveal()))
	}
	return out
}

// render builds a template's value from its references' results, in the
// template's order; ok is false when one of them is an optional reference
// that is missing (the variable is then left out).
func render(rs []*Result) (v []byte, ok bool) {
	t := rs[0].Template
	values := make([][]byte, len(t.Refs))
	for _, r := range rs {
		if r.Removed || r.Err != nil {
			return nil, false
		}
		if r.Part >= 1 && r.Part <= len(values) {
			values[r.Part-1] = r.Value.Reveal()
		}
	}
	return t.Render(values), true
}

// SetVar returns env with name set to value: replaced in place when
// present, appended otherwise.
func SetVar(env []string, name, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			env[i] = name + "=" + value
			return env
		}
	}
	return append(env, name+"="+value)
}

// Matcher reports whether a variable name matches any of a list of
// patterns, each a name or a glob such as "VAULT_*" (path.Match syntax).
type Matcher []string

// ParseMatcher splits a comma-separated list of patterns, ignoring blanks.
func ParseMatcher(list string) Matcher {
	var m Matcher
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			m = append(m, p)
		}
	}
	return m
}

// Match reports whether name matches one of the patterns.
func (m Matcher) Match(name string) bool {
	for _, p := range m {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Validate returns the first malformed pattern, if any.
func (m Matcher) Validate() (bad string, ok bool) {
	for _, p := range m {
		if _, err := path.Match(p, ""); err != nil {
			return p, false
		}
	}
	return "", true
}
