package inject

import (
	"errors"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	obj := `{"user":"n8n","password":"p@ss","port":5432,"tls":true,"nested":{"a/b":{"c~d":"deep"}},"list":["x","y"],"big":12345678901234567890}`
	tests := []struct {
		name    string
		value   string
		object  bool
		sel     string
		want    string
		wantErr error
	}{
		{"raw whole", "plain\nvalue", false, "", "plain\nvalue", nil},
		{"raw json whole", obj, false, "", obj, nil},
		{"key string", obj, false, "password", "p@ss", nil},
		{"key number kept as written", obj, false, "port", "5432", nil},
		{"big number exact", obj, false, "big", "12345678901234567890", nil},
		{"key bool", obj, false, "tls", "true", nil},
		{"key object compact", obj, false, "list", `["x","y"]`, nil},
		{"pointer escapes", obj, false, "/nested/a~1b/c~0d", "deep", nil},
		{"pointer index", obj, false, "/list/1", "y", nil},
		{"pointer root key", obj, false, "/user", "n8n", nil},
		{"missing key", obj, false, "nope", "", ErrKeyNotFound},
		{"pointer missing", obj, false, "/nested/x", "", ErrKeyNotFound},
		{"pointer index out of range", obj, false, "/list/2", "", ErrKeyNotFound},
		{"pointer leading zero", obj, false, "/list/01", "", ErrKeyNotFound},
		{"pointer into scalar", obj, false, "/user/x", "", ErrKeyNotFound},
		{"not json", "not json", false, "k", "", ErrBadData},
		{"array with key", `["a"]`, false, "k", "", ErrBadData},
		{"two docs", `{"a":1} {"b":2}`, false, "a", "", ErrBadData},
		{"object single key", `{"only":"v"}`, true, "", "v", nil},
		{"object many keys", obj, true, "", "", ErrKeyNotFound},
		{"object key", obj, true, "user", "n8n", nil},
		{"html not escaped", `{"k":"<a&b>"}`, false, "/k", "<a&b>", nil},
		{"object value html", `{"k":{"x":"<&>"}}`, false, "k", `{"x":"<&>"}`, nil},
		{"null key is missing", `{"k":null,"j":"v"}`, false, "k", "", ErrKeyNotFound},
		{"null pointer is missing", `{"a":{"b":null}}`, false, "/a/b", "", ErrKeyNotFound},
		{"null array element is missing", `{"a":[null]}`, false, "/a/0", "", ErrKeyNotFound},
		{"null only key is missing", `{"k":null}`, true, "", "", ErrKeyNotFound},
		{"null inside an object is kept", `{"k":{"x":null}}`, false, "k", `{"x":null}`, nil},
		{"null text without selector is the text", `null`, false, "", "null", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Payload{Value: NewSecret([]byte(tt.value)), Object: tt.object}
			got, err := Select(p, Reference{Scheme: "vault", Loc: testLoc{path: "x"}, Selector: tt.sel})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Reveal()) != tt.want {
				t.Fatalf("got a value of %d bytes, want %d bytes", got.Len(), len(tt.want))
			}
		})
	}
}

func TestSelectErrorsNameKeysNotValues(t *testing.T) {
	p := Payload{Value: NewSecret([]byte(`{"user":"` + canary + `","password":"` + canary + `"}`)), Object: true}
	_, err := Select(p, ref("vault", "x"))
	if err == nil || !strings.Contains(err.Error(), "password, user") || strings.Contains(err.Error(), canary) {
		t.Fatalf("error must name the keys and no value, got %v", err)
	}
	_, err = Select(p, Reference{Scheme: "vault", Loc: testLoc{path: "x"}, Selector: "nope"})
	if err == nil || strings.Contains(err.Error(), canary) {
		t.Fatalf("missing-key error leaks or is nil: %v", err)
	}
	bad := Payload{Value: NewSecret([]byte(canary + "{"))}
	_, err = Select(bad, Reference{Scheme: "file", Loc: testLoc{path: "x", opaque: true}, Selector: "k"})
	if err == nil || strings.Contains(err.Error(), canary) {
		t.Fatalf("invalid-JSON error leaks or is nil: %v", err)
	}
}

func FuzzSelect(f *testing.F) {
	for _, s := range []struct{ doc, sel string }{
		{`{"a":{"b":[1,"x",{"c~/d":true}]}}`, "/a/b/2/c~0~1d"},
		{`{"a":"v"}`, "a"}, {`{"a":"v"}`, ""}, {`[1,2]`, "/1"}, {`"s"`, "/x"}, {`{}`, "/"}, {`{"":1}`, "/"},
	} {
		f.Add(s.doc, s.sel, false)
		f.Add(s.doc, s.sel, true)
	}
	f.Fuzz(func(t *testing.T, doc, sel string, object bool) {
		ref := Reference{Scheme: "vault", Loc: testLoc{path: "x"}, Selector: sel}
		v, err := Select(Payload{Value: NewSecret([]byte(doc)), Object: object}, ref)
		if err != nil {
			if !errors.Is(err, ErrKeyNotFound) && !errors.Is(err, ErrBadData) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if sel == "" && !object && string(v.Reveal()) != doc {
			t.Fatal("no selector must return the whole value")
		}
	})
}
