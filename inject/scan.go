package inject

import (
	"fmt"
	"strings"
)

// Request asks for the value of one variable of the child's environment.
type Request struct {
	Var     string    // the variable that receives the value, e.g. N8N_ENCRYPTION_KEY
	Ref     Reference // where the value comes from
	FileVar string    // for NAME_FILE=/path: "NAME_FILE", which the child does not get
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
}

// Scanned is what Scan found.
type Scanned struct {
	Requests []Request
	Left     []string // NAME_FILE variables that ResolveFile declined
	Errs     []error  // one *VarError per problem, naming the variable
}

// Scan finds the requests in environ ("NAME=value" entries, as os.Environ
// returns them): every variable whose value is a reference (see
// [IsReference]) and every NAME_FILE that opts.ResolveFile accepts, which
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
			if IsReference(v) {
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
			ref := Reference{Scheme: SchemeFile, Path: v}
			if err := ref.checkPath(); err != nil {
				out.Errs = append(out.Errs, varErr(k, err))
				continue
			}
			out.Requests = append(out.Requests, Request{Var: base, Ref: ref, FileVar: k})
			continue
		}
		if !IsReference(v) {
			if near := nearScheme(v); near != "" {
				out.Errs = append(out.Errs, varErr(k, badRef("the value starts like a reference with a misspelled scheme: did you mean %s? (a value meant literally goes in N8N_SECRETS_SKIP)", near)))
			}
			continue
		}
		ref, err := ParseReference(v)
		if err != nil {
			out.Errs = append(out.Errs, varErr(k, err))
			continue
		}
		out.Requests = append(out.Requests, Request{Var: k, Ref: ref})
	}
	return out
}
