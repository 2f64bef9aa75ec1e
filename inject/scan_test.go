package inject

import (
	"reflect"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key",
		"DB_POSTGRESDB_PASSWORD=awssm://prod/n8n/db#password",
		"QUEUE_BULL_REDIS_PASSWORD_FILE=/run/secrets/redis_password",
		"N8N_SECRETS_DIR=/run/secrets",
		"VAULT_TOKEN_FILE=/run/secrets/vault_token",
		"PLAIN=hello",
		"N8N_ENCRYPTION_KEY=vault://ignored/duplicate",
		"NOEQUALS",
		"=novar",
	}
	skip := func(name string) bool {
		return strings.HasPrefix(name, "N8N_SECRETS_") || strings.HasPrefix(name, "VAULT_")
	}
	sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file", Skip: skip})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	got := map[string]string{}
	for _, r := range sc.Requests {
		got[r.Var] = r.Ref.String() + "|" + r.FileVar
	}
	want := map[string]string{
		"N8N_ENCRYPTION_KEY":        "vault://secret/n8n/core#encryption_key|",
		"DB_POSTGRESDB_PASSWORD":    "awssm://prod/n8n/db#password|",
		"QUEUE_BULL_REDIS_PASSWORD": "file:///run/secrets/redis_password|QUEUE_BULL_REDIS_PASSWORD_FILE",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scan = %v\nwant %v", got, want)
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		varName string
		code    Code
		msg     string
	}{
		{"both set", []string{"A=x", "A_FILE=/run/secrets/a"}, "A", CodeConflict, "A and A_FILE are both set"},
		{"both set empty name", []string{"A=", "A_FILE=/run/secrets/a"}, "A", CodeConflict, "both set"},
		{"relative file", []string{"A_FILE=run/secrets/a"}, "A_FILE", CodeBadReference, "absolute file path"},
		{"empty file", []string{"A_FILE="}, "A_FILE", CodeBadReference, "absolute file path"},
		{"typo scheme", []string{"K=vault:/secret/x"}, "K", CodeBadReference, "vault://"},
		{"misspelled vault", []string{"K=vualt://secret/x#k"}, "K", CodeBadReference, "did you mean vault://"},
		{"misspelled vault, capitals", []string{"K=VAUL://secret/x"}, "K", CodeBadReference, "did you mean vault://"},
		{"misspelled awssm", []string{"K=awsm://prod/db"}, "K", CodeBadReference, "did you mean awssm://"},
		{"misspelled file", []string{"K=flie:///run/secrets/x"}, "K", CodeBadReference, "did you mean file://"},
		{"dash in the scheme", []string{"K=aws-sm://prod/db"}, "K", CodeBadReference, "did you mean awssm://"},
		{"semicolon for colon", []string{"K=vault;//secret/x"}, "K", CodeBadReference, "did you mean vault://"},
		{"no colon", []string{"K=vault//secret/x"}, "K", CodeBadReference, "did you mean vault://"},
		{"white space before", []string{"K= vault://secret/x"}, "K", CodeBadReference, "without the white space"},
		{"capital scheme, bad option", []string{"K=VAULT://secret/x?verison=2"}, "K", CodeBadReference, "vault takes: version"},
		{"reference in NAME_FILE", []string{"A_FILE=vault://secret/a"}, "A_FILE", CodeBadReference, "set A to the reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Scan(tt.environ, ScanOptions{Stores: testStores, FileStore: "file"}).Errs
			if len(errs) != 1 {
				t.Fatalf("errs = %v, want one", errs)
			}
			ve, ok := errs[0].(*VarError)
			if !ok || ve.Var != tt.varName || ve.Code != tt.code || !strings.Contains(ve.Error(), tt.msg) ||
				!strings.HasPrefix(ve.Error(), tt.varName+": ") {
				t.Fatalf("error %#v (%v), want var %s code %s containing %q", errs[0], errs[0], tt.varName, tt.code, tt.msg)
			}
		})
	}
}

// TestScanCaseInsensitiveSchemes: RFC 3986 schemes ignore case.
func TestScanCaseInsensitiveSchemes(t *testing.T) {
	sc := Scan([]string{"A=VAULT://secret/a#k", "B=Awssm://prod/b", "C=FILE:c", "D=File:///run/secrets/d"}, ScanOptions{Stores: testStores, FileStore: "file"})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	got := map[string]string{}
	for _, q := range sc.Requests {
		got[q.Var] = q.Ref.String()
	}
	want := map[string]string{"A": "vault://secret/a#k", "B": "awssm://prod/b", "C": "file:c", "D": "file:///run/secrets/d"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestScanNotNearMisses: ordinary values with a scheme of their own, or a
// word and a colon, are not taken for misspelled references.
func TestScanNotNearMisses(t *testing.T) {
	environ := []string{"A=https://example.com", "B=tile:horizontal", "C=s3://bucket/x", "D=vaultwarden://x",
		"E=fail", "F=ftp://host", "G=http://vault:8200", "H=postgres://u@h/db", "I=file", "J=vault", "K=://x",
		"L=vaulted;//no", "M=file/path/x", "N= leading space", "O=wss://host", "P=redis://h", "Q=vault", "R=files are here"}
	if sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file"}); len(sc.Errs) > 0 || len(sc.Requests) > 0 {
		t.Fatalf("errors %v, requests %v", sc.Errs, sc.Requests)
	}
}

// TestScanFilePolicy: NAME_FILE is resolved only where ResolveFile says;
// the others stay for the program that reads them, and either name skips.
func TestScanFilePolicy(t *testing.T) {
	environ := []string{
		"REDIS_PASSWORD_FILE=/run/secrets/redis",
		"TF_CLI_CONFIG_FILE=/home/me/.terraformrc",
		"TF_CLI_CONFIG=set too, no conflict when not resolved",
		"NIX_SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt",
		"GIT_FILE=relative/path",
		"SKIPPED_FILE=/run/secrets/skipped",
		"OTHER_FILE=/run/secrets/other",
	}
	sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file",
		Skip:        func(n string) bool { return n == "SKIPPED" || n == "OTHER_FILE" },
		ResolveFile: func(_, p string) bool { return strings.HasPrefix(p, "/run/secrets/") },
	})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	if len(sc.Requests) != 1 || sc.Requests[0].Var != "REDIS_PASSWORD" || sc.Requests[0].FileVar != "REDIS_PASSWORD_FILE" {
		t.Errorf("requests %v", sc.Requests)
	}
	if want := []string{"TF_CLI_CONFIG_FILE", "NIX_SSL_CERT_FILE", "GIT_FILE"}; !reflect.DeepEqual(sc.Left, want) {
		t.Errorf("left %v, want %v", sc.Left, want)
	}
}

func TestBuildEnv(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin",
		"KEY=vault://s/core#k",
		"VAULT_ADDR=http://127.0.0.1:8200",
		"VAULT_TOKEN=root",
		"N8N_SECRETS_TIMEOUT=5s",
		"REDIS_FILE=/run/secrets/redis",
		"OPT=vault://s/none?optional=true",
		"HOME=/home/node",
		"PATH=/dup",
	}
	sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file", Skip: func(n string) bool { return strings.HasPrefix(n, "VAULT_") || strings.HasPrefix(n, "N8N_SECRETS_") }})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	results := make([]Result, len(sc.Requests))
	for i, q := range sc.Requests {
		results[i] = Result{Request: q}
		switch q.Var {
		case "KEY":
			results[i].Value = NewSecret([]byte("k=v with = signs"))
		case "REDIS":
			results[i].Value = NewSecret([]byte("redis-pw"))
		case "OPT":
			results[i].Removed = true
		}
	}
	remove := func(n string) bool {
		return (strings.HasPrefix(n, "VAULT_") && n != "VAULT_ADDR") || strings.HasPrefix(n, "N8N_SECRETS_")
	}
	got := BuildEnv(environ, results, remove)
	want := []string{"PATH=/usr/bin", "KEY=k=v with = signs", "VAULT_ADDR=http://127.0.0.1:8200", "REDIS=redis-pw", "HOME=/home/node"}
	if !reflect.DeepEqual(got, want) {
		// Names only: a failure message must not print values.
		t.Errorf("BuildEnv names = %v\nwant %v", names(got), names(want))
	}
	got = SetVar(got, "HOME", "/x")
	got = SetVar(got, "NEW", "1")
	if got[4] != "HOME=/x" || got[5] != "NEW=1" {
		t.Errorf("SetVar: %q", got)
	}
}

func TestMatcher(t *testing.T) {
	m := ParseMatcher(" VAULT_ADDR, AWS_* ,,")
	if len(m) != 2 || !m.Match("VAULT_ADDR") || !m.Match("AWS_REGION") || m.Match("VAULT_TOKEN") {
		t.Errorf("matcher %q", m)
	}
	if _, ok := ParseMatcher("A[").Validate(); ok {
		t.Error("a malformed glob must be reported")
	}
}

func FuzzScanBuildEnv(f *testing.F) {
	f.Add("A=vault://s/x#k\x00B_FILE=/run/secrets/b\x00C=plain\x00A=dup")
	f.Add("K=file:x?optional=true\x00K_FILE=/x\x00=bad\x00noeq")
	f.Fuzz(func(t *testing.T, joined string) {
		environ := strings.Split(joined, "\x00")
		sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file", ResolveFile: func(_, p string) bool { return strings.HasPrefix(p, "/run/") }})
		reqs := sc.Requests
		for _, err := range sc.Errs {
			if _, ok := err.(*VarError); !ok {
				t.Fatalf("error %v is not a *VarError", err)
			}
		}
		results := make([]Result, len(reqs))
		for i, q := range reqs {
			results[i] = Result{Request: q, Value: NewSecret([]byte("v"))}
		}
		env := BuildEnv(environ, results, func(n string) bool { return strings.HasPrefix(n, "N8N_SECRETS_") })
		seen := map[string]bool{}
		for _, kv := range env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" || seen[k] {
				t.Fatalf("child environment entry %q is malformed or duplicated", kv)
			}
			seen[k] = true
			if strings.HasSuffix(k, "_FILE") {
				for _, q := range reqs {
					if q.FileVar == k {
						t.Fatalf("%s was resolved but reached the child", k)
					}
				}
			}
		}
	})
}

// names returns the variable names of environment entries.
func names(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		out[i], _, _ = strings.Cut(kv, "=")
	}
	return out
}
