package vault_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// libraryVariables returns every VAULT_* name that the Vault client library
// of go.mod mentions in its source (tests aside): the variables it can read
// by itself.
func libraryVariables(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hashicorp/vault/api").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m github.com/hashicorp/vault/api: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no source in %s: %v", dir, err)
	}
	re := regexp.MustCompile(`"(VAULT_[A-Z0-9_]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			seen[string(m[1])] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestLibraryVariablesListed: LibraryVariables is exactly the set of
// VAULT_* variables the library's source names. An upgrade that adds one
// fails here until it is decided and documented.
func TestLibraryVariablesListed(t *testing.T) {
	lib := libraryVariables(t)
	if len(lib) < 20 {
		t.Fatalf("found only %d VAULT_* names in the library's source: the scan is broken", len(lib))
	}
	var ours []string
	for _, v := range vault.LibraryVariables {
		ours = append(ours, v.Name)
		if v.Note == "" || v.Treatment == "" {
			t.Errorf("%s: no treatment or note", v.Name)
		}
	}
	sort.Strings(ours)
	for _, n := range lib {
		if !slices.Contains(ours, n) {
			t.Errorf("the Vault client library reads %s: decide what the provider does with it and list it in LibraryVariables and the README", n)
		}
	}
	for _, n := range ours {
		if !slices.Contains(lib, n) {
			t.Errorf("%s is listed but the library no longer names it", n)
		}
	}
}

// TestLibraryVariablesInREADME: the README's Vault section lists every
// variable with its treatment.
func TestLibraryVariablesInREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "### Vault")
	if start < 0 {
		t.Fatal("README has no Vault section")
	}
	section := readme[start:]
	if end := strings.Index(section[4:], "\n## "); end >= 0 {
		section = section[:end+4]
	}
	for _, v := range vault.LibraryVariables {
		row := "| `" + v.Name + "` | " + string(v.Treatment) + " |"
		if !strings.Contains(section, row) {
			t.Errorf("the README's Vault section lacks the row %q", row)
		}
	}
}
