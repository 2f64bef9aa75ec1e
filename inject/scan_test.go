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
	reqs, errs := Scan(environ, skip)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]string{}
	for _, r := range reqs {
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
		{"unclean file", []string{"A_FILE=/run/secrets/../a"}, "A_FILE", CodeBadReference, "clean"},
		{"bad ref", []string{"K=vault://x?version=abc"}, "K", CodeBadReference, "positive integer"},
		{"typo scheme", []string{"K=vault:/secret/x"}, "K", CodeBadReference, "vault://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Scan(tt.environ, nil)
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
	reqs, errs := Scan(environ, func(n string) bool { return strings.HasPrefix(n, "VAULT_") || strings.HasPrefix(n, "N8N_SECRETS_") })
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	results := make([]Result, len(reqs))
	for i, q := range reqs {
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
		reqs, errs := Scan(environ, nil)
		for _, err := range errs {
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
