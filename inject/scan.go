package inject

import (
	"errors"
	"fmt"
	"strings"
)

// Request asks for the value of one variable of the child's environment,
// or for one part of it.
type Request struct {
	Var     string    // the variable that receives the value, e.g. N8N_ENCRYPTION_KEY
	Ref     Reference // where the value comes from
	FileVar string    // for NAME_FILE=/path: "NAME_FILE", which the child does not get
	// Part is 0 for a reference that is the whole value. For a template
	// (a value with ${…} references, see Template) it is the reference's
	// number in it, from 1; for an env-from secret, the item's number.
	Part int
	// Template is the value Var is built from, for the references of a
	// template (each request of one variable shares it).
	Template *Template
	// EnvFrom marks a whole secret whose keys become variables
	// (N8N_SECRETS_ENV_FROM); Var is then the setting's name.
	EnvFrom bool
}

// ID identifies the request among those of one scan: the variable, and
// the part for a template's reference or an env-from item.
func (q Request) ID() string {
	if q.Part == 0 {
		return q.Var
	}
	return fmt.Sprintf("%s#%d", q.Var, q.Part)
}

// ScanOptions tell Scan which variables to look at.
type ScanOptions struct {
	// Skip reports the names never looked at: the injector's own settings,
	// provider credentials, a user's skip list. For NAME_FILE it is asked
	// about both NAME_FILE and NAME, so that either name skips it. nil
	// skips nothing.
	Skip func(name string) bool
	// ResolveFile reports whether NAME_FILE, whose value is path, is one
	// to resolve (NAME gets the file's contents). Those it declines stay in
	// the child's environment as they are, for whatever program reads them,
	// and are listed in Scanned.Left. nil resolves every one.
	ResolveFile func(fileVar, path string) bool
	// EnvFrom are references to whole secrets, JSON objects whose keys
	// become variables (N8N_SECRETS_ENV_FROM), and EnvFromVar the name
	// that their errors and requests carry.
	EnvFrom    []string
	EnvFromVar string
	// Stores are the stores whose schemes are references.
	Stores Stores
	// FileStore is the scheme of the store that reads a NAME_FILE's file
	// (its Parse gets "//" and the absolute path, as in file:///path).
	// "" refuses every NAME_FILE that would be resolved.
	FileStore string
}

// fileRef returns the reference of a NAME_FILE's absolute path.
func (opts ScanOptions) fileRef(path string) (Reference, error) {
	st, ok := opts.Stores.Lookup(opts.FileStore)
	if !ok {
		return Reference{}, fmt.Errorf("%w: this build has no store for NAME_FILE variables", ErrNotConfigured)
	}
	loc, err := st.Parse("//"+path, nil)
	if err != nil {
		if !errors.Is(err, ErrBadReference) {
			err = fmt.Errorf("%w: %w", ErrBadReference, err)
		}
		return Reference{}, err
	}
	return Reference{Scheme: st.Scheme, Loc: loc}, nil
}

// Scanned is what Scan found.
type Scanned struct {
	Requests []Request
	Left     []string // NAME_FILE variables that ResolveFile declined
	Errs     []error  // one *VarError per problem, naming the variable
	// Foreign are variables whose whole value is another tool's
	// reference (op://, ref+vault://, …): passed on as they are.
	Foreign []Foreign
}

// Foreign is a variable whose value is another tool's reference.
type Foreign struct {
	Var  string
	Tool string // what it is, in words
	Hint string // what to do
}

// Scan finds the requests in environ ("NAME=value" entries, as os.Environ
// returns them): every variable whose value is a reference (see
// [Stores.IsReference]) and every NAME_FILE that opts.ResolveFile accepts, which
// gives NAME the file's contents. When a name appears twice, the first
// entry counts, as os.Getenv does.
//
// Every problem is reported, one *VarError each, naming the variable: a
// malformed reference, a value one typo away from a reference (vualt://),
// an empty or relative NAME_FILE path, NAME and NAME_FILE both set.
func Scan(environ []string, opts ScanOptions) Scanned {
	vars := map[string]string{}
	var names []string
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, dup := vars[k]; dup {
			continue
		}
		vars[k] = v
		names = append(names, k)
	}
	skip := func(name string) bool { return opts.Skip != nil && opts.Skip(name) }
	var out Scanned
	for _, k := range names {
		v := vars[k]
		if skip(k) {
			continue
		}
		if base, ok := strings.CutSuffix(k, "_FILE"); ok && base != "" {
			if skip(base) {
				continue
			}
			if opts.Stores.IsReference(v) {
				out.Errs = append(out.Errs, &VarError{Var: k, Code: CodeBadReference,
					Err: fmt.Errorf("%w: %s holds a reference, not a file path: set %s to the reference instead", ErrBadReference, k, base)})
				continue
			}
			if opts.ResolveFile != nil && !opts.ResolveFile(k, v) {
				out.Left = append(out.Left, k)
				continue
			}
			if _, both := vars[base]; both {
				out.Errs = append(out.Errs, &VarError{Var: base, Code: CodeConflict,
					Err: fmt.Errorf("%s and %s are both set: unset one of them", base, k)})
				continue
			}
			if !strings.HasPrefix(v, "/") {
				out.Errs = append(out.Errs, &VarError{Var: k, Code: CodeBadReference,
					Err: fmt.Errorf("%w: %s must hold an absolute file path", ErrBadReference, k)})
				continue
			}
			ref, err := opts.fileRef(v)
			if err != nil {
				out.Errs = append(out.Errs, varErr(k, err))
				continue
			}
			out.Requests = append(out.Requests, Request{Var: base, Ref: ref, FileVar: k})
			continue
		}
		if opts.Stores.IsTemplate(v) {
			t, err := opts.Stores.ParseTemplate(v)
			if err != nil {
				out.Errs = append(out.Errs, varErr(k, err))
				continue
			}
			for i, ref := range t.Refs {
				out.Requests = append(out.Requests, Request{Var: k, Ref: ref, Part: i + 1, Template: t})
			}
			continue
		}
		if !opts.Stores.IsReference(v) {
			if near := opts.Stores.nearScheme(v); near != "" {
				out.Errs = append(out.Errs, varErr(k, badRef("the value starts like a reference with a misspelled scheme: did you mean %s? (a value meant literally goes in N8N_SECRETS_SKIP)", near)))
			} else if tool, hint := opts.Stores.foreignReference(v); tool != "" {
				out.Foreign = append(out.Foreign, Foreign{Var: k, Tool: tool, Hint: hint})
			}
			continue
		}
		ref, err := opts.Stores.Parse(v)
		if err != nil {
			out.Errs = append(out.Errs, varErr(k, err))
			continue
		}
		out.Requests = append(out.Requests, Request{Var: k, Ref: ref})
	}
	for i, item := range opts.EnvFrom {
		ref, err := opts.Stores.Parse(item)
		if err != nil {
			out.Errs = append(out.Errs, &VarError{Var: opts.EnvFromVar, Code: CodeBadReference, Err: fmt.Errorf("item %d: %w", i+1, err)})
			continue
		}
		out.Requests = append(out.Requests, Request{Var: opts.EnvFromVar, Ref: ref, Part: i + 1, EnvFrom: true})
	}
	return out
}

// foreignPrefixes are the references of other tools that name no store's
// secrets (the stores declare those: Store.Foreign): a whole value
// starting with one is passed on as it is, with a warning, since the
// program would otherwise get the reference as its value without a word.
var foreignPrefixes = []ForeignPrefix{
	{"op://", "a 1Password reference (op run)", "n8n-secrets does not read 1Password: run the command under op run, or keep the secret in a store n8n-secrets reads (see n8n-secrets --help)"},
	{"ref+", "a vals reference (ref+<backend>://)", "n8n-secrets does not read vals references: write a reference of a store n8n-secrets reads instead (see n8n-secrets --help)"},
	{"berglas://", "a berglas reference", "n8n-secrets does not read berglas references: run the command under berglas exec"},
}

// foreignReference returns what tool's reference value is, and a hint,
// or "" when it is none: the stores' declared prefixes first, then the
// core's.
func (ss Stores) foreignReference(value string) (tool, hint string) {
	lower := strings.ToLower(strings.TrimSpace(value))
	var all []ForeignPrefix
	for _, st := range ss {
		all = append(all, st.Foreign...)
	}
	for _, f := range append(all, foreignPrefixes...) {
		if strings.HasPrefix(lower, strings.ToLower(f.Prefix)) {
			if f.Prefix == "ref+" && !strings.Contains(lower, "://") {
				continue
			}
			return f.Tool, f.Hint
		}
	}
	return "", ""
}
