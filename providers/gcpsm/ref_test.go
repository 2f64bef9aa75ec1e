package gcpsm

import (
	"errors"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
		path string
	}{
		{"projects/my-project/secrets/n8n-key", Ref{Project: "my-project", Secret: "n8n-key"}, "projects/my-project/secrets/n8n-key"},
		{"projects/my-project/secrets/n8n-key/versions/latest", Ref{Project: "my-project", Secret: "n8n-key"}, "projects/my-project/secrets/n8n-key"},
		{"projects/my-project/secrets/n8n-key/versions/3", Ref{Project: "my-project", Secret: "n8n-key", VersionID: "3"}, "projects/my-project/secrets/n8n-key"},
		{"projects/318552740113/secrets/N8N_KEY/versions/prod_1", Ref{Project: "318552740113", Secret: "N8N_KEY", VersionID: "prod_1"}, "projects/318552740113/secrets/N8N_KEY"},
		{"projects/example.com:my-proj/secrets/s", Ref{Project: "example.com:my-proj", Secret: "s"}, "projects/example.com:my-proj/secrets/s"},
		{"projects/my-project/locations/europe-west1/secrets/db/versions/2", Ref{Project: "my-project", Location: "europe-west1", Secret: "db", VersionID: "2"}, "projects/my-project/locations/europe-west1/secrets/db"},
		{"n8n-key", Ref{Secret: "n8n-key"}, "n8n-key"},
		{"n8n-key/versions/12", Ref{Secret: "n8n-key", VersionID: "12"}, "n8n-key"},
		{"n8n-key/versions/latest", Ref{Secret: "n8n-key"}, "n8n-key"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRef(tc.in, nil)
			if err != nil {
				t.Fatalf("ParseRef: %v", err)
			}
			if r != tc.want {
				t.Fatalf("got %+v, want %+v", r, tc.want)
			}
			if r.Path() != tc.path || r.Version() != tc.want.VersionID {
				t.Errorf("Path %q Version %q", r.Path(), r.Version())
			}
			back, err := ParseRef(strings.TrimPrefix(r.String(), Scheme+"://"), nil)
			if err != nil || back != r {
				t.Errorf("String %q does not round-trip: %+v %v", r.String(), back, err)
			}
		})
	}
}

var refErrorCases = []struct {
	in   string
	opts map[string]string
	text string
}{
	{"", nil, "empty path"},
	{"projects/p", nil, "resource name is"},
	{"projects/my-project/secrets", nil, "resource name is"},
	{"projects//secrets/s", nil, "project"},
	{"projects/My_Project/secrets/s", nil, "project"},
	{"projects/abc/secrets/s", nil, "project"},
	{"projects/0123/secrets/s", nil, "project"},
	{"projects/my-project/keys/s", nil, "expected secrets/"},
	{"projects/my-project/locations/Bad/secrets/s", nil, "location"},
	{"projects/my-project/locations/eu/x", nil, "regional resource name"},
	{"projects/my-project/secrets/s/versions/", nil, "version"},
	{"projects/my-project/secrets/s/versions/0", nil, "positive integer"},
	{"projects/my-project/secrets/s/versions/007", nil, "positive integer"},
	{"projects/my-project/secrets/s/versions", nil, "versions/ takes a version"},
	{"projects/my-project/secrets/s/other/1", nil, "only /versions/"},
	{"projects/my-project/secrets/s/versions/1/x", nil, "only /versions/"},
	{"s/versions/a.b", nil, "version"},
	{"my secret", nil, "secret id"},
	{"s/", nil, "only /versions/"},
	{"/s", nil, "secret id"},
	{strings.Repeat("a", 256), nil, "secret id"},
	{"s", map[string]string{"version": "2"}, "takes no options"},
	{"s", map[string]string{"CANARY-opt=x": "y"}, "takes no options"},
}

func TestParseRefErrors(t *testing.T) {
	for _, tc := range refErrorCases {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseRef(tc.in, tc.opts)
			if !errors.Is(err, inject.ErrBadReference) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want ErrBadReference holding %q", err, tc.text)
			}
			if tc.in != "" && len(tc.in) > 3 && strings.Contains(err.Error(), tc.in) {
				t.Errorf("err repeats the input: %v", err)
			}
		})
	}
}

// FuzzParseRef: no panic; errors never repeat the input (beyond the fixed
// text of the messages); a parsed ref round-trips through String.
func FuzzParseRef(f *testing.F) {
	var fixed strings.Builder
	for _, tc := range refErrorCases {
		_, err := ParseRef(tc.in, tc.opts)
		fixed.WriteString(err.Error() + "\n")
	}
	for _, s := range []string{"projects/p-123456/secrets/s", "s/versions/1", "projects/1/locations/eu/secrets/x/versions/latest", "CANARY-value-x"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, path, opt string) {
		var opts map[string]string
		if opt != "" {
			opts = map[string]string{opt: "v"}
		}
		r, err := ParseRef(path, opts)
		if err != nil {
			if !errors.Is(err, inject.ErrBadReference) {
				t.Fatalf("error not ErrBadReference: %v", err)
			}
			for _, in := range []string{path, opt} {
				if len(in) >= 6 && strings.Contains(err.Error(), in) && !strings.Contains(fixed.String(), in) {
					t.Fatalf("error repeats the input: %v", err)
				}
			}
			return
		}
		back, err := ParseRef(strings.TrimPrefix(r.String(), Scheme+"://"), nil)
		if err != nil || back != r {
			t.Fatalf("%q -> %+v -> %q -> %+v (%v)", path, r, r.String(), back, err)
		}
	})
}
