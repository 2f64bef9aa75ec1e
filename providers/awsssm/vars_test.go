package awsssm_test

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

// TestVariables: one AWS identity serves awssm:// and awsssm://, so both
// remove the same credentials from the child (awssm's test derives that
// list from the SDK's source); every variable listed is the store's own,
// and flagged as a credential exactly when it is removed.
func TestVariables(t *testing.T) {
	if !slices.Equal(awsssm.CredentialVars, awssm.CredentialVars) {
		t.Errorf("CredentialVars differ from awssm's:\n%v\n%v", awsssm.CredentialVars, awssm.CredentialVars)
	}
	listed := map[string]bool{}
	for _, v := range awsssm.Variables {
		listed[v.Name] = true
		if v.Credential != slices.Contains(awsssm.CredentialVars, v.Name) {
			t.Errorf("%s: Credential %v disagrees with CredentialVars", v.Name, v.Credential)
		}
		owned := slices.ContainsFunc(awsssm.OwnedVars, func(glob string) bool { ok, _ := path.Match(glob, v.Name); return ok })
		if !owned || v.Meaning == "" {
			t.Errorf("%s: owned %v, meaning %q", v.Name, owned, v.Meaning)
		}
	}
	for _, c := range awsssm.CredentialVars {
		if !listed[c] {
			t.Errorf("%s is removed but not listed in Variables", c)
		}
	}
	if !listed["AWS_ENDPOINT_URL_SSM"] {
		t.Error("the store's endpoint variable is not listed")
	}
	for _, code := range []inject.Code{inject.CodeAuthFailed, inject.CodePermissionDenied, inject.CodeSecretNotFound,
		inject.CodeNotConfigured, inject.CodeProviderUnavailable, inject.CodeBadData} {
		if awsssm.Hints[code] == "" {
			t.Errorf("no hint for %s", code)
		}
	}
	for _, o := range awsssm.Options {
		if _, err := awsssm.ParseRef("/x", map[string]string{o.Name: "bad value!"}); err == nil || o.Meaning == "" {
			t.Errorf("option %s: a bad value is accepted, or no meaning", o.Name)
		}
	}
}

// TestDocs: the store's section of docs/stores.md shows the syntax, each
// option and names every variable the store reads.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "stores.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## AWS Systems Manager Parameter Store\n")
	if !ok {
		t.Fatal("docs/stores.md has no section for this store")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	if !strings.Contains(section, awsssm.Syntax) {
		t.Error("the section does not show the syntax")
	}
	for _, o := range awsssm.Options {
		if !strings.Contains(section, "?"+o.Name+"=") {
			t.Errorf("the section does not describe ?%s=", o.Name)
		}
	}
	for _, v := range awsssm.Variables {
		if !strings.Contains(section, "`"+v.Name+"`") {
			t.Errorf("the section does not list %s", v.Name)
		}
	}
}
