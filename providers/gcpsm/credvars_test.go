package gcpsm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// keptVars are variables the credential libraries read that this package
// neither strips nor owns, each with the reason.
var keptVars = map[string]string{
	"AWS_REGION":            "read by a federation from AWS (credential_source of type aws); the awssm store owns AWS_*",
	"AWS_DEFAULT_REGION":    "the same",
	"AWS_ACCESS_KEY_ID":     "the same; awssm.CredentialVars strips it",
	"AWS_SECRET_ACCESS_KEY": "the same; awssm.CredentialVars strips it",
	"AWS_SESSION_TOKEN":     "the same; awssm.CredentialVars strips it",
}

// TestVariablesCoverLibraries reads the environment variable names in the
// source of the libraries this package links for credentials (the versions
// go.mod selects) and checks that each is classified: stripped
// (CredentialVars), owned (OwnedVars) or kept with a reason. A variable an
// upgrade adds fails here until it is classified.
func TestVariablesCoverLibraries(t *testing.T) {
	name := regexp.MustCompile(`^(GOOGLE|GCE|CLOUDSDK|AWS)_[A-Z0-9_]+$`)
	read := map[string]bool{}
	for _, pkg := range []string{
		"golang.org/x/oauth2/google", "golang.org/x/oauth2/google/externalaccount",
		"golang.org/x/oauth2/google/internal/impersonate", "golang.org/x/oauth2/google/internal/stsexchange",
		"golang.org/x/oauth2/google/internal/externalaccountauthorizeduser", "cloud.google.com/go/compute/metadata",
	} {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
		if err != nil {
			t.Fatalf("locating %s: %v", pkg, err)
		}
		files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.go"))
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(v) {
						read[v] = true
					}
				}
				return true
			})
		}
	}
	for _, must := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES"} {
		if !read[must] {
			t.Errorf("the libraries no longer mention %s: the scan is broken or they changed", must)
		}
	}
	owned := func(v string) bool {
		return slices.ContainsFunc(OwnedVars, func(g string) bool { ok, _ := path.Match(g, v); return ok })
	}
	for v := range read {
		if !slices.Contains(CredentialVars, v) && !owned(v) && keptVars[v] == "" {
			t.Errorf("the libraries read %s, which is neither stripped, owned nor kept with a reason", v)
		}
	}
	// What carries a credential or leads to one is stripped, and owned.
	for _, v := range CredentialVars {
		if !owned(v) {
			t.Errorf("%s is stripped but not owned: it would be scanned as a reference", v)
		}
	}
	for _, v := range ProjectVars {
		if !owned(v) {
			t.Errorf("%s is read but not owned", v)
		}
	}
	if !owned(EndpointVar) {
		t.Errorf("%s is read but not owned", EndpointVar)
	}
}
