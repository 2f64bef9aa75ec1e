package azkv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// notOurs are names in the libraries' source that look like variables but
// are read only by code this binary never runs, or are too generic to own.
var notOurs = map[string]string{
	"REGION_NAME":              "MSAL reads it only for AZURE_REGIONAL_AUTHORITY_NAME=TryAutoDetect; too generic a name to own",
	"AZURE_KUBERNETES_CA_DATA": "AKS identity bindings' token proxy: only with WorkloadIdentityCredentialOptions.EnableAzureProxy, which the default chain does not set",
	"AZURE_KUBERNETES_CA_FILE": "the same", "AZURE_KUBERNETES_SNI_NAME": "the same", "AZURE_KUBERNETES_TOKEN_PROXY": "the same",
}

// TestVariablesCoverSDK reads the environment variable names in the
// source of azidentity, MSAL and azcore's internal log package (the
// versions go.mod selects) and checks that each is classified in
// Variables, or named in notOurs with a reason.
func TestVariablesCoverSDK(t *testing.T) {
	mods := map[string][]string{
		"github.com/Azure/azure-sdk-for-go/sdk/azidentity":                  {"."},
		"github.com/AzureAD/microsoft-authentication-library-for-go":        {"apps"},
		"github.com/Azure/azure-sdk-for-go/sdk/internal":                    {"log"},
		"github.com/Azure/azure-sdk-for-go/sdk/azcore":                      {"."},
		"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets": {"."},
	}
	name := regexp.MustCompile(`^(AZURE|IDENTITY|MSI|IMDS|MSAL|REGION)_[A-Z0-9_]+$`)
	read := map[string]bool{}
	for mod, dirs := range mods {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
		if err != nil {
			t.Fatalf("locating %s: %v", mod, err)
		}
		root := strings.TrimSpace(string(out))
		for _, d := range dirs {
			err := filepath.WalkDir(filepath.Join(root, d), func(path string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if e.IsDir() && (e.Name() == "testdata" || e.Name() == "fake" || e.Name() == "test" || e.Name() == "recording") {
					return filepath.SkipDir
				}
				if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
					return nil
				}
				file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
				if err != nil {
					return err
				}
				ast.Inspect(file, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(v) {
							read[v] = true
						}
					}
					return true
				})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, must := range []string{"AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_HEADER", "AZURE_AUTHORITY_HOST"} {
		if !read[must] {
			t.Errorf("the SDK source no longer mentions %s: the scan is broken or the SDK changed", must)
		}
	}
	var names []string
	for _, v := range Variables {
		names = append(names, v.Name)
	}
	for v := range read {
		if !slices.Contains(names, v) && notOurs[v] == "" {
			t.Errorf("the SDK reads %s, which Variables does not classify", v)
		}
	}
	for _, secret := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD", "IDENTITY_HEADER", "MSI_SECRET", "AZURE_FEDERATED_TOKEN_FILE"} {
		if !slices.Contains(CredentialVars, secret) {
			t.Errorf("%s carries a credential and must be in CredentialVars", secret)
		}
	}
	for _, kept := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "AZURE_KEYVAULT_DNS_SUFFIX"} {
		if slices.Contains(CredentialVars, kept) || !slices.Contains(OwnedVars, kept) {
			t.Errorf("%s is a setting: owned, not removed", kept)
		}
	}
}

// TestHints: every hint is for a code this store produces, and none is
// empty.
func TestHints(t *testing.T) {
	for _, c := range []inject.Code{inject.CodeAuthFailed, inject.CodePermissionDenied, inject.CodeSecretNotFound, inject.CodeNotConfigured, inject.CodeProviderUnavailable} {
		if strings.TrimSpace(Hints[c]) == "" {
			t.Errorf("no hint for %s", c)
		}
	}
	if !strings.Contains(Hints[inject.CodePermissionDenied], "Key Vault Secrets User") {
		t.Error("the permission hint does not name the role")
	}
}

// TestDocsListVariables: docs/stores.md names every variable, the syntax
// and the options.
func TestDocsListVariables(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "stores.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, v := range Variables {
		if !strings.Contains(doc, "`"+v.Name+"`") {
			t.Errorf("docs/stores.md does not list %s", v.Name)
		}
	}
	for _, o := range Options {
		if !strings.Contains(doc, "?"+o.Name+"=") {
			t.Errorf("docs/stores.md does not describe ?%s=", o.Name)
		}
	}
	if !strings.Contains(doc, Syntax) {
		t.Error("docs/stores.md does not show the syntax")
	}
}
