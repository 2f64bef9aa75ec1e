package inject

import (
	"context"
	"strings"
)

// testLoc is the locator of the test stores: the path as written and the
// store's options, in a fixed order.
type testLoc struct {
	path, opts string
	opaque     bool
}

func (l testLoc) Path() string    { return strings.TrimPrefix(l.path, "//") }
func (l testLoc) Version() string { return "" }
func (l testLoc) Opaque() bool    { return l.opaque }
func (l testLoc) String() string {
	if l.opts == "" {
		return l.path
	}
	return l.path + "?" + l.opts
}

// testStore declares a store of scheme that takes the options named: its
// Parse keeps the path and options as they are, so that these tests see
// the common grammar alone (the real stores test their own parts).
func testStore(scheme string, opaque bool, options ...string) Store {
	st := Store{Scheme: scheme, Syntax: scheme + "://<path>", Opaque: opaque,
		New:      func(Config) (Provider, error) { return nil, nil },
		Provider: nopProvider{},
	}
	for _, o := range options {
		st.Options = append(st.Options, Option{Name: o, Meaning: o})
	}
	st.Parse = func(path string, opts map[string]string) (Locator, error) {
		if opaque && strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "///") {
			return nil, badRef("absolute paths take three slashes")
		}
		var kv []string
		for _, o := range options {
			if v, ok := opts[o]; ok {
				kv = append(kv, o+"="+v)
			}
		}
		return testLoc{path: path, opts: strings.Join(kv, "&"), opaque: opaque}, nil
	}
	return st
}

type nopProvider struct{}

func (nopProvider) Fetch(context.Context, Reference) (Payload, error) { return Payload{}, nil }

// testStores stand for the program's: vault://, awssm:// and file: with
// their options.
var testStores = Stores{
	testStore("vault", false, "version"),
	testStore("awssm", false, "version-stage", "version-id", "region"),
	testStore("file", true),
}

// parseRef parses s with the test stores.
func parseRef(s string) (Reference, error) { return testStores.Parse(s) }

// ref returns the reference of a scheme and a path, as the test stores
// parse it.
func ref(scheme, path string) Reference {
	return Reference{Scheme: scheme, Loc: testLoc{path: path, opaque: scheme == "file"}}
}
