package inject_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// These tests parse with the program's stores: the common grammar here,
// each store's part by its declaration.
var stores = providers.Stores

func ParseReference(s string) (inject.Reference, error) { return stores.Parse(s) }

func IsReference(s string) bool { return stores.IsReference(s) }

func TestParseReference(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want inject.Reference
	}{
		{"vault plain", "vault://secret/n8n/core", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/n8n/core"}}},
		{"vault key", "vault://secret/n8n/core#encryption_key", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/n8n/core"}, Selector: "encryption_key"}},
		{"vault version", "vault://secret/n8n/core?version=3#k", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/n8n/core", Ver: "3"}, Selector: "k"}},
		{"vault data path", "vault://secret/data/n8n/core", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/data/n8n/core"}}},
		{"vault pointer", "vault://secret/x#/a/b~1c/0", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/x"}, Selector: "/a/b~1c/0"}},
		{"vault optional", "vault://secret/x?optional=true", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/x"}, Optional: true}},
		{"vault optional false", "vault://secret/x?optional=false", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/x"}}},
		{"vault both options", "vault://secret/x?optional=true&version=12", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/x", Ver: "12"}, Optional: true}},
		{"awssm name", "awssm://prod/n8n/db#password", inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "prod/n8n/db"}, Selector: "password"}},
		{"awssm stage", "awssm://prod/n8n/db?version-stage=AWSPREVIOUS", inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "prod/n8n/db", Stage: "AWSPREVIOUS"}}},
		{"awssm id region", "awssm://db?version-id=0f3a-11&region=eu-west-1", inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "db", VersionID: "0f3a-11", Region: "eu-west-1"}}},
		{"awssm arn", "awssm://arn:aws:secretsmanager:us-east-2:123456789012:secret:prod/db-AbCdEf#password",
			inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "arn:aws:secretsmanager:us-east-2:123456789012:secret:prod/db-AbCdEf", Region: "us-east-2"}, Selector: "password"}},
		{"awssm arn same region", "awssm://arn:aws:secretsmanager:us-east-2:123456789012:secret:db?region=us-east-2",
			inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "arn:aws:secretsmanager:us-east-2:123456789012:secret:db", Region: "us-east-2"}}},
		{"awssm name chars", "awssm://a_b+c=d.e@f-g", inject.Reference{Scheme: "awssm", Loc: awssm.Ref{ID: "a_b+c=d.e@f-g"}}},
		{"file name", "file:redis_password", inject.Reference{Scheme: "file", Loc: file.Ref{Name: "redis_password"}}},
		{"file sub", "file:n8n/db.json#password", inject.Reference{Scheme: "file", Loc: file.Ref{Name: "n8n/db.json"}, Selector: "password"}},
		{"file abs", "file:///etc/n8n/key", inject.Reference{Scheme: "file", Loc: file.Ref{Name: "/etc/n8n/key"}}},
		{"file optional", "file:x?optional=true", inject.Reference{Scheme: "file", Loc: file.Ref{Name: "x"}, Optional: true}},
		{"selector with slash inside key", "vault://s/x#a/b", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "s/x"}, Selector: "a/b"}},
		{"selector with hash", "vault://s/x#a#b", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "s/x"}, Selector: "a#b"}},
		{"vault path with a space", "vault://secret/my app/db#password", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/my app/db"}, Selector: "password"}},
		{"vault path escaped", "vault://secret/my%20app/a%23b%3Fc%25d", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/my app/a#b?c%d"}}},
		{"vault path lower-case escape", "vault://secret/%e2%82%ac", inject.Reference{Scheme: "vault", Loc: vault.Ref{LogicalPath: "secret/€"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReference(tt.in)
			if err != nil {
				t.Fatalf("ParseReference(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseReference(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			again, err := ParseReference(got.String())
			if err != nil || again != got {
				t.Fatalf("round trip of %q via %q: %#v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParseReferenceErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown scheme", "vaultx://a", "unknown scheme"},
		{"vault no slashes", "vault:secret/x", "vault references start with vault://"},
		{"awssm no slashes", "awssm:db", "awssm references start with awssm://"},
		{"empty vault path", "vault://", "empty path"},
		{"empty vault path with key", "vault://#k", "empty path"},
		{"leading slash", "vault:///secret/x", "must not start or end"},
		{"trailing slash", "vault://secret/x/", "must not start or end"},
		{"double slash", "vault://secret//x", "must not start or end"},
		{"dot dot", "vault://secret/../x", "'.' or '..'"},
		{"leading space", "vault://%20secret/a", "white space"},
		{"trailing space", "vault://secret/a ", "white space"},
		{"bare percent", "vault://secret/100%", "not followed by two hex digits"},
		{"bad escape", "vault://secret/a%2", "not followed by two hex digits"},
		{"escaped control", "vault://secret/a%09b", "control characters"},
		{"escaped dot dot", "vault://secret/%2E%2E/x", "'.' or '..'"},
		{"unknown option", "vault://secret/x?verison=2", `unknown option (option 1 after '?'; vault takes: version, optional)`},
		{"awssm option on vault", "vault://secret/x?region=eu-west-1", "unknown option"},
		{"vault option on awssm", "awssm://db?version=2", "unknown option"},
		{"bad version", "vault://secret/x?version=abc", "positive integer"},
		{"zero version", "vault://secret/x?version=0", "positive integer"},
		{"negative version", "vault://secret/x?version=-1", "positive integer"},
		{"padded version", "vault://secret/x?version=01", "positive integer"},
		{"empty option value", "vault://secret/x?version=", "empty value"},
		{"option without value", "vault://secret/x?optional", "not key=value"},
		{"duplicate option", "vault://secret/x?version=1&version=2", "given twice"},
		{"empty options", "vault://secret/x?", "empty options"},
		{"empty option pair", "vault://secret/x?version=1&", "not key=value"},
		{"query after hash", "vault://secret/x#key?version=2", "'?' after '#'"},
		{"empty selector", "vault://secret/x#", "empty selector"},
		{"bad pointer escape", "vault://secret/x#/a~2", "'~'"},
		{"optional yes", "vault://secret/x?optional=yes", "true or false"},
		{"optional 1", "vault://secret/x?optional=1", "true or false"},
		{"bad region", "awssm://db?region=EU_WEST", "region"},
		{"arn region conflict", "awssm://arn:aws:secretsmanager:us-east-2:123456789012:secret:db?region=eu-west-1", "differs"},
		{"bad arn service", "awssm://arn:aws:s3:us-east-2:123456789012:secret:db", "ARN must be"},
		{"bad arn account", "awssm://arn:aws:secretsmanager:us-east-2:12345:secret:db", "ARN must be"},
		{"bad secret name", "awssm://bad name", "secret id"},
		{"bad version id", "awssm://db?version-id=a b", "version-id"},
		{"file host", "file://host/x", "file://host"},
		{"file one slash", "file:/run/secrets/x", "three slashes"},
		{"file empty", "file:", "empty path"},
		{"file escape", "file:../etc/passwd", "clean"},
		{"file unclean", "file:a//b", "clean"},
		{"file abs dotdot", "file:///run/secrets/../x", "clean"},
		{"file unknown option", "file:x?version=2", "unknown option"},
		{"control char", "vault://secret/x\n", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReference(tt.in)
			if err == nil {
				t.Fatalf("ParseReference(%q) succeeded, want error containing %q", tt.in, tt.want)
			}
			if !errors.Is(err, inject.ErrBadReference) {
				t.Errorf("error %v does not wrap inject.ErrBadReference", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseReference(%q) error %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseErrorDoesNotEchoInput(t *testing.T) {
	// A literal secret that happens to start with a scheme must not be
	// repeated by the error.
	const canary = "CANARY-9f8e7d6c5b4a"
	for _, in := range []string{
		"file:" + canary + "/../x", "vault:" + canary, "vault://x?version=" + canary,
		"awssm://" + canary + " x", "awssm://x?region=" + canary, "vault://x#" + canary + "?v",
		"file:x?" + canary + "=abc", "vault://x?version=1&" + canary, "file:x?optional=true&" + canary + "=1",
	} {
		_, err := ParseReference(in)
		if err == nil {
			t.Fatalf("ParseReference succeeded for a malformed input (case %d)", len(in))
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("error for a malformed input repeats it: the message holds the canary")
		}
	}
}

func TestIsReference(t *testing.T) {
	for in, want := range map[string]bool{
		"vault://a": true, "vault:a": true, "awssm://a": true, "file:a": true,
		"VAULT://a": true, "Vault:a": true, "AWSSM://a": true, "FILE:a": true, "https://x": false, "vaults://a": false, "": false, "secret": false, "filex:": false,
	} {
		if got := IsReference(in); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFetchKeyIgnoresSelectorAndOptional(t *testing.T) {
	a, _ := ParseReference("vault://secret/x?version=2#a")
	b, _ := ParseReference("vault://secret/x?version=2&optional=true#b")
	c, _ := ParseReference("vault://secret/x?version=3#a")
	if a.FetchKey() != b.FetchKey() {
		t.Error("same path and version must share a fetch key")
	}
	if a.FetchKey() == c.FetchKey() {
		t.Error("different versions must not share a fetch key")
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"vault://secret/n8n/core#encryption_key", "vault://s/x?version=2&optional=true#/a/b",
		"awssm://arn:aws:secretsmanager:us-east-2:123456789012:secret:db-AbC?version-stage=AWSPREVIOUS#k",
		"awssm://db?region=eu-west-1&version-id=abc", "file:x", "file:///run/secrets/x#/a~0b", "file:a?optional=true",
		"vault://a#b?c", "file://x", "vault://", "awssm://a?region=", "vault://a/../b", "vault://a b/%23%3F%25", "vault://x%2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			if !errors.Is(err, inject.ErrBadReference) {
				t.Fatalf("error does not wrap inject.ErrBadReference: %v", err)
			}
			return
		}
		out := r.String()
		r2, err := ParseReference(out)
		if err != nil {
			t.Fatalf("String() of a parsed reference does not parse: %q: %v", out, err)
		}
		if r2 != r {
			t.Fatalf("round trip changed the reference: %#v -> %q -> %#v", r, out, r2)
		}
		if r2.String() != out {
			t.Fatalf("String() is not canonical: %q vs %q", out, r2.String())
		}
	})
}

func TestCheckEndpoint(t *testing.T) {
	for _, tt := range []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"https://vault.example:8200", false, true},
		{"http://127.0.0.1:8200", false, true},
		{"http://127.8.9.10:8200", false, true},
		{"http://localhost:8200", false, true},
		{"http://[::1]:8200", false, true},
		{"http://vault:8200", false, false},
		{"http://10.0.0.5:8200", false, false},
		{"http://vault:8200", true, true},
		{"vault:8200", false, false},
		{"ftp://vault", true, false},
		{"https://", false, false},
	} {
		err := inject.CheckEndpoint(tt.url, tt.allow, "VAULT_ADDR")
		if (err == nil) != tt.ok {
			t.Errorf("inject.CheckEndpoint(%q, %v) = %v", tt.url, tt.allow, err)
		}
		if err != nil && (!errors.Is(err, inject.ErrNotConfigured) || !strings.Contains(err.Error(), "VAULT_ADDR")) {
			t.Errorf("error %v must wrap inject.ErrNotConfigured and name the setting", err)
		}
	}
}

// TestScanStoreErrors: the stores' own checks reach Scan's errors, named
// by variable: a NAME_FILE path the file store refuses, an option value
// Vault's refuses.
func TestScanStoreErrors(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		varName string
		code    inject.Code
		msg     string
	}{
		{"unclean file", []string{"A_FILE=/run/secrets/../a"}, "A_FILE", inject.CodeBadReference, "clean"},
		{"bad ref", []string{"K=vault://x?version=abc"}, "K", inject.CodeBadReference, "positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := inject.Scan(tt.environ, inject.ScanOptions{Stores: stores, FileStore: file.Scheme}).Errs
			if len(errs) != 1 {
				t.Fatalf("errs = %v, want one", errs)
			}
			ve, ok := errs[0].(*inject.VarError)
			if !ok || ve.Var != tt.varName || ve.Code != tt.code || !strings.Contains(ve.Error(), tt.msg) ||
				!strings.HasPrefix(ve.Error(), tt.varName+": ") {
				t.Fatalf("error %#v (%v), want var %s code %s containing %q", errs[0], errs[0], tt.varName, tt.code, tt.msg)
			}
		})
	}
}

// TestForeignReferencesNameTheStore: another tool's way of naming a secret
// of a store this build has (an SSM parameter ARN, berglas's sm://,
// secrets-init's gcp:secretmanager:) is passed on with a hint that says how
// to write it here, from the store's declaration; other tools' references
// keep the core's hints.
func TestForeignReferencesNameTheStore(t *testing.T) {
	for _, tt := range []struct{ value, hint string }{
		{"arn:aws:ssm:us-east-1:123456789012:parameter/n8n/key", "awsssm://"},
		{"sm://n8n-prod/n8n-key", "gcpsm://"},
		{"gcp:secretmanager:projects/p/secrets/s", "gcpsm://"},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:db", "awssm://"},
		{"op://vault/item/field", "1Password"},
	} {
		sc := inject.Scan([]string{"V=" + tt.value}, inject.ScanOptions{Stores: stores})
		if len(sc.Foreign) != 1 || !strings.Contains(sc.Foreign[0].Hint, tt.hint) || strings.Contains(sc.Foreign[0].Hint, "does not read SSM") ||
			strings.Contains(sc.Foreign[0].Hint, "does not read Google Secret Manager") {
			t.Errorf("%s: foreign %+v, want a hint naming %s", tt.value, sc.Foreign, tt.hint)
		}
	}
}

// TestForeignReferences: other tools' references, the stores' declared
// ones (sm://, an ARN without a scheme) and the core's (op://, ref+…), are
// passed on with a tool and a hint; a skipped variable is not looked at.
func TestForeignReferences(t *testing.T) {
	environ := []string{
		"A=op://vault/item/field",
		"B=ref+vault://secret/x#/k",
		"C=sm://project/secret",
		"D=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db",
		"E=ref+plain text",
		"F=https://op.example.com",
		"G=op://skipped/x",
	}
	sc := inject.Scan(environ, inject.ScanOptions{Stores: stores, FileStore: file.Scheme, Skip: func(n string) bool { return n == "G" }})
	var got []string
	for _, f := range sc.Foreign {
		got = append(got, f.Var)
		if f.Tool == "" || f.Hint == "" {
			t.Errorf("%s: no tool or hint", f.Var)
		}
	}
	if strings.Join(got, ",") != "A,B,C,D" || len(sc.Requests) != 0 || len(sc.Errs) != 0 {
		t.Errorf("foreign %v, requests %d, errors %v", got, len(sc.Requests), sc.Errs)
	}
}
