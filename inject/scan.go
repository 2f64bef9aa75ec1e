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

// Scan finds the requests in environ ("NAME=value" entries, as os.Environ
// returns them): every variable whose value is a reference (see
// [IsReference]) and every NAME_FILE=/absolute/path, which gives NAME the
// file's contents. Variables for which skip returns true are not looked at
// (the injector's own settings, provider credentials, a user's skip list).
// When a name appears twice, the first entry counts, as os.Getenv does.
//
// Every problem is reported, one *VarError each, naming the variable: a
// malformed reference, an empty or relative NAME_FILE path, NAME and
// NAME_FILE both set.
func Scan(environ []string, skip func(name string) bool) ([]Request, []error) {
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
	var reqs []Request
	var errs []error
	for _, k := range names {
		v := vars[k]
		if skip != nil && skip(k) {
			continue
		}
		if base, ok := strings.CutSuffix(k, "_FILE"); ok && base != "" {
			if _, both := vars[base]; both {
				errs = append(errs, &VarError{Var: base, Code: CodeConflict,
					Err: fmt.Errorf("%s and %s are both set: unset one of them", base, k)})
				continue
			}
			if !strings.HasPrefix(v, "/") {
				errs = append(errs, &VarError{Var: k, Code: CodeBadReference,
					Err: fmt.Errorf("%w: %s must hold an absolute file path", ErrBadReference, k)})
				continue
			}
			ref := Reference{Scheme: SchemeFile, Path: v}
			if err := ref.checkPath(); err != nil {
				errs = append(errs, varErr(k, err))
				continue
			}
			reqs = append(reqs, Request{Var: base, Ref: ref, FileVar: k})
			continue
		}
		if !IsReference(v) {
			continue
		}
		ref, err := ParseReference(v)
		if err != nil {
			errs = append(errs, varErr(k, err))
			continue
		}
		reqs = append(reqs, Request{Var: k, Ref: ref})
	}
	return reqs, errs
}
