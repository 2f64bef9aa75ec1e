package main

import (
	"os"
	"strings"
	"testing"
)

const (
	storesBegin = "<!-- stores:begin: generated from the stores' declarations (providers.Stores); N8N_SECRETS_UPDATE_README=1 go test -run TestReadmeStoresTable . rewrites it -->\n"
	storesEnd   = "<!-- stores:end -->"
)

// TestReadmeStoresTable: the README's table of stores is the one the
// declarations give: a store added to the list shows up there, with its
// grammar, options, abilities and the variables kept from the child.
func TestReadmeStoresTable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, storesBegin)
	if !ok {
		t.Fatal("README.md has no stores table marker")
	}
	table, after, ok := strings.Cut(rest, storesEnd)
	if !ok {
		t.Fatal("README.md's stores table is not closed")
	}
	want := storesTable(stores)
	if table == want {
		return
	}
	if os.Getenv("N8N_SECRETS_UPDATE_README") == "1" {
		if err := os.WriteFile("README.md", []byte(before+storesBegin+want+storesEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's stores table differs from the declarations; want:\n%s", want)
}

// TestStoresDeclared: every store of the build is declared whole.
func TestStoresDeclared(t *testing.T) {
	if err := stores.Check(); err != nil {
		t.Fatal(err)
	}
	for _, st := range stores {
		if st.Syntax == "" || !strings.HasPrefix(st.Syntax, st.Scheme+":") {
			t.Errorf("%s: the grammar line must start with the scheme", st.Scheme)
		}
		if st.Provider == nil {
			t.Errorf("%s: no provider type, so no abilities", st.Scheme)
		}
	}
}
