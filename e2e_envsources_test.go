package main

// The habits of the field, end to end against a real Vault: --env-file
// (op run, docker run), a whole secret as variables (envconsul's -secret,
// chamber exec), ${…} inside a value (vault-env, vals), and another tool's
// reference passed on with a warning. Each with its bad inputs.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// events returns the JSON events of stderr with the given code.
func events(t *testing.T, stderr, code string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range jsonEvents(t, stderr) {
		if ev["code"] == code {
			out = append(out, ev)
		}
	}
	return out
}

func TestEnvFileEndToEnd(t *testing.T) {
	ve := newVaultE2E(t)
	token := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, token)
	file := filepath.Join(t.TempDir(), "n8n.env")
	content := "# Compose's .env syntax\n" +
		"N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key\n" +
		"DB_POSTGRESDB_CONNECTION_URL=\"postgres://n8n:${vault://secret/n8n/db#password}@db:5432/n8n\"\n" +
		"export PLAIN='a # b'\n" +
		"OVERRIDDEN=from-the-file\n" +
		"HOSTED=${HOST_PART:-none}/n8n\n" +
		"VAULT_ADDR=" + ve.v.Addr + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"VAULT_TOKEN=" + token, "N8N_SECRETS_N8N=off", "OVERRIDDEN=from-the-environment", "HOST_PART=example.com"}
	r := ve.run(env, "--env-file", file, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := envOf(r.child)
	want := map[string]string{
		"N8N_ENCRYPTION_KEY":           ve.key,
		"DB_POSTGRESDB_CONNECTION_URL": "postgres://n8n:" + ve.db + "@db:5432/n8n",
		"PLAIN":                        "a # b",
		"OVERRIDDEN":                   "from-the-environment",
		"HOSTED":                       "example.com/n8n",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d bytes, want %d (the file's value, under the environment)", k, len(got[k]), len(v))
		}
	}
	if _, ok := got["VAULT_ADDR"]; ok {
		t.Error("VAULT_ADDR from the file reached the child: a provider variable, removed as from the environment")
	}
	res := events(t, r.stderr, "RESOLVED")
	if len(res) != 2 || !strings.Contains(r.stderr, `"var":"DB_POSTGRESDB_CONNECTION_URL"`) || !strings.Contains(r.stderr, `"reference":1`) {
		t.Errorf("want RESOLVED for the key and the URL's reference:\n%s", r.stderr)
	}

	// The variable names it the same way (N8N_SECRETS_ENV_FILE), and
	// check sees what the start would.
	r = ve.run(append(env, "N8N_SECRETS_ENV_FILE="+file), "check")
	if r.code != 0 || !strings.Contains(r.stdout, "DB_POSTGRESDB_CONNECTION_URL") {
		t.Errorf("check with N8N_SECRETS_ENV_FILE: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestEnvFileBadInputs(t *testing.T) {
	e := newE2E(t)
	secret := e.canary("literal")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content string
		env           []string
		code          int
		want          string
	}{
		{"unclosed quote", "A=1\nDB_PASS='" + secret + "\n", nil, 64, "line 2: a quoted value is not closed"},
		{"bad name", "A=1\nMY KEY=" + secret + "\n", nil, 64, "line 2:"},
		{"required unset", "A=${NEEDED:?" + secret + "}\n", nil, 64, "line 1: NEEDED must be set"},
		{"names another env file", "N8N_SECRETS_ENV_FILE=/x\n", nil, 64, "cannot name other env files"},
		{"missing file", "", []string{"@missing"}, 64, "cannot open the file"},
		{"NAME in the file, NAME_FILE in the environment", "K=" + secret + "\n", []string{"K_FILE=/run/secrets/k"}, 65, "VARIABLE_CONFLICT"},
		// Compose rejects it too: the file is malformed before the value is.
		{"unclosed ${ in a value", "K=postgres://${file:s\n", nil, 64, "line 1: a ${ is not closed by }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := write("x.env", tt.content)
			env := []string{"N8N_SECRETS_N8N=off"}
			for _, kv := range tt.env {
				if kv == "@missing" {
					file = filepath.Join(dir, "nope.env")
					continue
				}
				env = append(env, kv)
			}
			r := e.run(env, "--env-file", file, "--", self(t))
			if r.code != tt.code || r.child != nil || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s", r.code, tt.code, tt.want, r.stderr)
			}
		})
	}
}

func TestEnvFromEndToEnd(t *testing.T) {
	ve := newVaultE2E(t)
	token := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, token)
	smtp, hmac := ve.canary("smtp"), ve.canary("hmac")
	ve.v.PutKV("secret/n8n/env", map[string]any{
		"N8N_SMTP_PASS": smtp, "N8N_HMAC_SIGNATURE_SECRET": hmac, "N8N_PORT": 5678, "EXISTING": "from-vault",
		// A value that is a reference, and one with ${…}: never resolved again.
		"LOOKS_LIKE_REF": "vault://secret/n8n/core#encryption_key", "LOOP": "${vault://secret/n8n/core#encryption_key}",
	})
	ve.plant("extra.json", `{"N8N_SMTP_PASS":"`+ve.canary("shadowed")+`","EXTRA":"e"}`)
	env := []string{"VAULT_TOKEN=" + token, "VAULT_ADDR=" + ve.v.Addr, "N8N_SECRETS_N8N=off", "EXISTING=explicit",
		"N8N_SECRETS_ENV_FROM=vault://secret/n8n/env,file:extra.json,file:none.json?optional=true",
		// ${…} over a secret that yields ${…}: taken once, as it is.
		"TWICE=[${vault://secret/n8n/env#LOOP}]"}
	r := ve.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	got := envOf(r.child)
	want := map[string]string{
		"N8N_SMTP_PASS": smtp, "N8N_HMAC_SIGNATURE_SECRET": hmac, "N8N_PORT": "5678", "EXISTING": "explicit", "EXTRA": "e",
		"LOOKS_LIKE_REF": "vault://secret/n8n/core#encryption_key", "LOOP": "${vault://secret/n8n/core#encryption_key}",
		"TWICE": "[${vault://secret/n8n/core#encryption_key}]",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d bytes, want %d", k, len(got[k]), len(v))
		}
	}
	if _, ok := got["N8N_SECRETS_ENV_FROM"]; ok {
		t.Error("the setting reached the child")
	}
	resolved := map[string]bool{}
	for _, ev := range events(t, r.stderr, "RESOLVED") {
		if ev["from"] == "N8N_SECRETS_ENV_FROM" {
			resolved[ev["var"].(string)] = true
		}
	}
	for _, k := range []string{"N8N_SMTP_PASS", "N8N_HMAC_SIGNATURE_SECRET", "N8N_PORT", "EXTRA", "LOOP"} {
		if !resolved[k] {
			t.Errorf("no RESOLVED event for %s", k)
		}
	}
	shadowed := map[string]string{}
	for _, ev := range events(t, r.stderr, "ENV_FROM_SHADOWED") {
		shadowed[ev["var"].(string)] = ev["kept"].(string)
	}
	if shadowed["EXISTING"] != "the environment" || shadowed["N8N_SMTP_PASS"] != "item 1" || len(shadowed) != 2 {
		t.Errorf("ENV_FROM_SHADOWED: %v", shadowed)
	}

	// check lists each variable, and the item.
	r = ve.run(env, "check", "--json")
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK {
		t.Fatalf("check: %v\n%s", err, r.stdout)
	}
	rows := map[string]string{}
	for _, row := range rep.Variables {
		rows[row.Variable] = row.Status
	}
	if rows["N8N_SMTP_PASS"] == "" || !strings.HasPrefix(rows["EXISTING"], "set already") || !strings.HasPrefix(rows["N8N_SECRETS_ENV_FROM (item 1)"], "ok: 6") {
		t.Errorf("check rows: %v", rows)
	}
}

func TestEnvFromAndTemplateBadInputs(t *testing.T) {
	ve := newVaultE2E(t)
	token := ve.v.Token("n8n-read")
	ve.canaries = append(ve.canaries, token)
	bad := ve.canary("badkey")
	ve.v.PutKV("secret/n8n/badenv", map[string]any{"GOOD": ve.canary("good"), "not-a-name": bad})
	ve.v.PutKV("secret/n8n/list", map[string]any{"items": []any{ve.canary("item")}})
	base := []string{"VAULT_TOKEN=" + token, "N8N_SECRETS_N8N=off", "VAULT_ADDR=" + ve.v.Addr}
	tests := []struct {
		name    string
		env     []string
		code    int
		varName string
		errCode string
		want    string
	}{
		{"a key that is no variable name", []string{"N8N_SECRETS_ENV_FROM=vault://secret/n8n/badenv"}, 65, "N8N_SECRETS_ENV_FROM", "BAD_DATA", `key \"not-a-name\" is not a valid variable name`},
		{"not an object", []string{"N8N_SECRETS_ENV_FROM=vault://secret/n8n/list#items"}, 65, "N8N_SECRETS_ENV_FROM", "BAD_DATA", "not a JSON object"},
		{"missing env-from secret", []string{"N8N_SECRETS_ENV_FROM=vault://secret/n8n/nope"}, 65, "N8N_SECRETS_ENV_FROM", "SECRET_NOT_FOUND", "item 1"},
		{"malformed env-from item", []string{"N8N_SECRETS_ENV_FROM=vault://secret/n8n/db,vault://x?verison=2"}, 65, "N8N_SECRETS_ENV_FROM", "BAD_REFERENCE", "item 2"},
		{"unclosed ${", []string{"DB_URL=postgres://n8n:${vault://secret/n8n/db#password@db/n8n"}, 65, "DB_URL", "BAD_REFERENCE", "not closed"},
		{"${ of no reference", []string{"DB_URL=${vault://secret/n8n/db#password}@${HOST}"}, 65, "DB_URL", "BAD_REFERENCE", "write $${ for a literal"},
		{"unresolvable reference in ${…}", []string{"DB_URL=postgres://n8n:${vault://secret/n8n/nope#password}@db"}, 65, "DB_URL", "SECRET_NOT_FOUND", ""},
		{"missing key in ${…}", []string{"DB_URL=postgres://n8n:${vault://secret/n8n/db#nope}@db"}, 65, "DB_URL", "KEY_NOT_FOUND", ""},
		{"typo of a scheme in ${…}", []string{"DB_URL=postgres://n8n:${vualt://secret/n8n/db#password}@db"}, 65, "DB_URL", "BAD_REFERENCE", "did you mean vault://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ve.run(append(append([]string{}, base...), tt.env...), "--", self(t))
			if r.code != tt.code || r.child != nil {
				t.Fatalf("exit %d (child ran %v), want %d\n%s", r.code, r.child != nil, tt.code, r.stderr)
			}
			for _, w := range []string{`"var":"` + tt.varName + `"`, `"code":"` + tt.errCode + `"`, tt.want} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("the log lacks %s:\n%s", w, r.stderr)
				}
			}
		})
	}
	// In N8N_SECRETS_SKIP, ${…} is off: the value goes through as it is.
	v := "x${vault://secret/n8n/db#password}"
	r := ve.run(append(append([]string{}, base...), "DB_URL="+v, "N8N_SECRETS_SKIP=DB_URL"), "--", self(t))
	if r.code != 0 || r.child == nil || envOf(r.child)["DB_URL"] != v {
		t.Errorf("a skipped variable: exit %d\n%s", r.code, r.stderr)
	}
}

// TestForeignReferenceWarns: another tool's reference as a whole value
// reaches the command as it is, with a warning and a hint; in
// N8N_SECRETS_SKIP, silently.
func TestForeignReferenceWarns(t *testing.T) {
	e := newE2E(t)
	refs := map[string]string{
		"A": "op://prod/n8n/encryption-key",
		"B": "ref+vault://secret/n8n#/key",
		"C": "sm://my-project/n8n-db",
		"D": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/n8n-AbCdEf",
	}
	env := []string{"N8N_SECRETS_N8N=off"}
	for k, v := range refs {
		env = append(env, k+"="+v)
	}
	r := e.run(env, "--", self(t))
	if r.code != 0 || r.child == nil {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	warned := map[string]bool{}
	for _, ev := range events(t, r.stderr, "FOREIGN_REFERENCE") {
		warned[ev["var"].(string)] = ev["level"] == "WARN" && ev["hint"] != nil && ev["tool"] != nil
	}
	for k, v := range refs {
		if !warned[k] {
			t.Errorf("%s: no FOREIGN_REFERENCE warning with a tool and a hint", k)
		}
		if envOf(r.child)[k] != v {
			t.Errorf("%s: the value changed", k)
		}
		if strings.Contains(r.stderr, v) {
			t.Errorf("%s: the log repeats the value", k)
		}
	}
	if !strings.Contains(r.stderr, "awssm://arn:aws:secretsmanager:") {
		t.Error("the ARN's hint does not say how to resolve it here")
	}
	r = e.run(append(env, "N8N_SECRETS_SKIP=A,B,C,D"), "--", self(t))
	if r.code != 0 || strings.Contains(r.stderr, "FOREIGN_REFERENCE") {
		t.Errorf("skipped variables must pass silently: exit %d\n%s", r.code, r.stderr)
	}
}
