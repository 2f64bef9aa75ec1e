package azkv

import (
	"errors"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		opts       map[string]string
		want       Ref
		err        string // part of the error, "" for none
	}{
		{"latest", "n8n-kv/db-password", nil, Ref{Vault: "n8n-kv", Name: "db-password"}, ""},
		{"vault name lowercased", "N8N-KV/Db-Password", nil, Ref{Vault: "n8n-kv", Name: "Db-Password"}, ""},
		{"pinned version", "n8n-kv/db", map[string]string{"version": "0123456789ABCDEF0123456789abcdef"}, Ref{Vault: "n8n-kv", Name: "db", VersionID: "0123456789abcdef0123456789abcdef"}, ""},
		{"shortest vault", "abc/x", nil, Ref{Vault: "abc", Name: "x"}, ""},
		{"empty", "", nil, Ref{}, "empty path"},
		{"no secret", "n8n-kv", nil, Ref{}, "<vault-name>/<secret>"},
		{"empty secret", "n8n-kv/", nil, Ref{}, "secret name"},
		{"version as a segment", "n8n-kv/db/0123456789abcdef0123456789abcdef", nil, Ref{}, "?version="},
		{"host instead of name", "n8n-kv.vault.azure.net/db", nil, Ref{}, "not its host"},
		{"vault too short", "kv/db", nil, Ref{}, "3 to 24"},
		{"vault too long", strings.Repeat("a", 25) + "/db", nil, Ref{}, "3 to 24"},
		{"vault starts with a digit", "1vault/db", nil, Ref{}, "start with a letter"},
		{"vault ends with a hyphen", "vault-/db", nil, Ref{}, "end with a letter"},
		{"vault with --", "my--vault/db", nil, Ref{}, "'--'"},
		{"vault with _", "my_vault/db", nil, Ref{}, "3 to 24"},
		{"secret with _", "n8n-kv/db_password", nil, Ref{}, "secret name"},
		{"secret too long", "n8n-kv/" + strings.Repeat("s", 128), nil, Ref{}, "secret name"},
		{"unknown option", "n8n-kv/db", map[string]string{"region": "x"}, Ref{}, "unknown option"},
		{"bad version", "n8n-kv/db", map[string]string{"version": "3"}, Ref{}, "option version"},
		{"version not hex", "n8n-kv/db", map[string]string{"version": strings.Repeat("g", 32)}, Ref{}, "option version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRef(tc.path, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, inject.ErrBadReference) {
					t.Fatalf("error %v, want one wrapping ErrBadReference and saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
			// String writes it back; parsing that gives the same Ref.
			path, query, _ := strings.Cut(got.String(), "?")
			opts := map[string]string{}
			if query != "" {
				k, v, _ := strings.Cut(query, "=")
				opts[k] = v
			}
			again, err := ParseRef(path, opts)
			if err != nil || again != got {
				t.Fatalf("round trip of %q: %+v, %v", got.String(), again, err)
			}
			if got.Path() != got.Vault+"/"+got.Name || got.Version() != got.VersionID {
				t.Fatalf("Path %q Version %q", got.Path(), got.Version())
			}
		})
	}
}

// FuzzParseRef: the parser never panics, an error never repeats the input,
// and what parses round-trips through String.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"n8n-kv/db", "a/b/c", "", "N8N-KV/x", "vault.azure.net/x", "abc/" + strings.Repeat("z", 130)} {
		f.Add(s, "")
		f.Add(s, "0123456789abcdef0123456789abcdef")
	}
	f.Fuzz(func(t *testing.T, path, version string) {
		opts := map[string]string{}
		if version != "" {
			opts["version"] = version
		}
		r, err := ParseRef(path, opts)
		if err != nil {
			if len(path) >= 8 && strings.Contains(err.Error(), path) {
				t.Fatalf("error repeats the path: %v", err)
			}
			if len(version) >= 8 && strings.Contains(err.Error(), version) {
				t.Fatalf("error repeats the version: %v", err)
			}
			return
		}
		p, q, _ := strings.Cut(r.String(), "?")
		o := map[string]string{}
		if q != "" {
			k, v, _ := strings.Cut(q, "=")
			o[k] = v
		}
		if again, err := ParseRef(p, o); err != nil || again != r {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, r)
		}
	})
}
