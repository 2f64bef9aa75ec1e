package inject

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestIsTemplate(t *testing.T) {
	for v, want := range map[string]bool{
		"postgres://n8n:${vault://secret/n8n/db#password}@db/n8n": true,
		"${VAULT://secret/x}":      true,
		"a${file:x}b":              true,
		"a${vualt://secret/x}":     true,  // a typo: fails, not passed on
		"a$${vault://secret/x}":    false, // escaped: left as it is
		"a$$${vault://secret/x}":   false, // $ then an escaped ${
		"$${x}${vault://secret/x}": true,
		"${HOST}/x":                false,
		"$${HOST}":                 false,
		"price: $5, ${not a ref}":  false,
		"vault://secret/x":         false, // a whole reference
		"plain":                    false,
		"${":                       false,
		"https://example.com/${path}?q=${vault}x": false,
	} {
		if got := testStores.IsTemplate(v); got != want {
			t.Errorf("IsTemplate(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestParseTemplate(t *testing.T) {
	tp, err := testStores.ParseTemplate("postgres://${vault://secret/n8n/db#user}:${vault://secret/n8n/db#password}@db/n8n?x=$${lit}$")
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.Refs) != 2 || tp.Refs[0].Selector != "user" || tp.Refs[1].Selector != "password" {
		t.Fatalf("refs %v", tp.Refs)
	}
	got := string(tp.Render([][]byte{[]byte("u"), []byte("p${vault://secret/x}")}))
	if want := "postgres://u:p${vault://secret/x}@db/n8n?x=${lit}$"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	canary := "CANARYsecretText123"
	tests := []struct{ value, msg string }{
		{"a${vault://secret/x", "not closed"},
		{"a${vault://secret/x} b${", "not closed"},
		{"a${vault://secret/x}${}", "empty ${}"},
		{"a${vault://secret/x}${" + canary + "}", "does not hold a reference"},
		{"x${vault://secret/${file:y}}", "do not nest"},
		{"a${vault://secret/x?verison=2}", "reference 1"},
		{"a${file:x}b${vualt://s/" + canary + "}", "did you mean vault://"},
		{"a${vault://" + canary + "?x=1}", "unknown option"},
	}
	for _, tt := range tests {
		_, err := testStores.ParseTemplate(tt.value)
		if err == nil || !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("testStores.ParseTemplate(%q) = %v, want an error with %q", tt.value, err, tt.msg)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("the error repeats the value's text: %v", err)
		}
	}
}

// TestTemplatesResolveOnce: a template's references are fetched as any
// reference (deduplicated), the value is built once, an optional reference
// that is missing removes the variable, and a resolved value that holds
// ${…} is never expanded again.
func TestTemplatesResolveOnce(t *testing.T) {
	environ := []string{
		"URL=postgres://${file:user}:${file:pw}@db/n8n",
		"LOOP=x${file:loop}y",
		"OPT=a${file:none?optional=true}b",
		"SKIPPED=${file:pw}",
		"LITERAL=$${file:pw}",
		"MIXED=${file:user}$${file:pw}",
	}
	sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file", Skip: func(n string) bool { return n == "SKIPPED" }})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	p := fakeFiles{"user": "n8n", "pw": "s3cr3t", "loop": "${file:pw}"}
	r := &Resolver{Providers: map[string]Provider{"file": p}}
	results, errs := r.Resolve(context.Background(), sc.Requests)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	env := map[string]string{}
	for _, kv := range BuildEnv(environ, results, nil) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{"URL": "postgres://n8n:s3cr3t@db/n8n", "LOOP": "x${file:pw}y", "SKIPPED": "${file:pw}", "LITERAL": "$${file:pw}", "MIXED": "n8n${file:pw}"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["OPT"]; ok {
		t.Error("OPT: a missing optional reference must remove the variable")
	}
}

// fakeFiles is a Provider over a map, for unit tests.
type fakeFiles map[string]string

func (f fakeFiles) Fetch(_ context.Context, ref Reference) (Payload, error) {
	v, ok := f[ref.Path()]
	if !ok {
		return Payload{}, ErrNotFound
	}
	return Payload{Value: NewSecret([]byte(v))}, nil
}

// FuzzParseTemplate: parsing never panics, and an error never repeats a
// run of the value's text longer than a scheme (a value may be a secret).
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"a${vault://x}", "${file:a#b}${awssm://c}", "a${", "$${vault://x}", "${CANARYzzzz}", "${vault://CANARYzzzz?q=1}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tp, err := testStores.ParseTemplate(v)
		if err != nil {
			if strings.Contains(v, "CANARY") && strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("the error repeats the value: %v", err)
			}
			return
		}
		vals := make([][]byte, len(tp.Refs))
		_ = tp.Render(vals)
	})
}
