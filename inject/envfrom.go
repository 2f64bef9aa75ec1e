package inject

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// EnvVar is one variable that a whole secret (N8N_SECRETS_ENV_FROM) gives:
// a key of its JSON object and that key's value.
type EnvVar struct {
	Name  string
	Value Secret
}

// validName matches a variable name a shell and n8n take.
var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidName reports whether name is a valid environment variable name:
// letters, digits and underscores, not starting with a digit.
func ValidName(name string) bool { return validName.MatchString(name) }

// envFromVars turns the value of an env-from secret, a JSON object, into
// variables, sorted by name: a string is taken as is, a number, boolean,
// object or array as its compact JSON text, and a null key is left out.
// Errors wrap ErrBadData and name the key at fault (a key is a name, not a
// value), never a value.
func envFromVars(value []byte) ([]EnvVar, error) {
	doc, err := decodeJSON(value)
	if err != nil {
		return nil, fmt.Errorf("%w: not JSON: each key of a JSON object becomes a variable", ErrBadData)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object: each key of a JSON object becomes a variable", ErrBadData)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var vars []EnvVar
	for _, k := range keys {
		if !ValidName(k) {
			return nil, fmt.Errorf("%w: key %q is not a valid variable name (letters, digits and _, not starting with a digit)", ErrBadData, short(k))
		}
		if obj[k] == nil {
			continue
		}
		v, err := valueOf(obj[k])
		if err != nil {
			return nil, err
		}
		if strings.IndexByte(string(v.Reveal()), 0) >= 0 {
			return nil, fmt.Errorf("%w: key %s: the value holds a NUL byte, which an environment variable cannot hold", ErrBadData, k)
		}
		vars = append(vars, EnvVar{Name: k, Value: v})
	}
	return vars, nil
}

// EnvFromEntry is one variable of an env-from secret as it lands in the
// child's environment, or not.
type EnvFromEntry struct {
	EnvVar
	Item int       // the env-from item that gave it (1 for the first)
	Ref  Reference // that item's reference
	// ShadowedBy is why the child does not get this value: "the
	// environment" (the variable is set there) or "item N" (an earlier
	// env-from secret gave it); "" when it does.
	ShadowedBy string
}

// EnvFromLayout returns the variables the env-from results give, in
// order (item, then name), each with what shadows it: a variable set in
// environ wins over every env-from secret, and an earlier secret wins over
// a later one. Results that failed or were removed give nothing.
func EnvFromLayout(environ []string, results []Result) []EnvFromEntry {
	set := map[string]bool{}
	for _, kv := range environ {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			set[k] = true
		}
	}
	for _, r := range results {
		if r.FileVar != "" {
			set[r.Var] = true // NAME, from NAME_FILE
		}
	}
	given := map[string]int{}
	var out []EnvFromEntry
	for _, r := range results {
		if !r.EnvFrom || r.Err != nil || r.Removed {
			continue
		}
		for _, v := range r.Vars {
			e := EnvFromEntry{EnvVar: v, Item: r.Part, Ref: r.Ref}
			switch {
			case set[v.Name]:
				e.ShadowedBy = "the environment"
			case given[v.Name] != 0:
				e.ShadowedBy = fmt.Sprintf("item %d", given[v.Name])
			default:
				given[v.Name] = r.Part
			}
			out = append(out, e)
		}
	}
	return out
}
