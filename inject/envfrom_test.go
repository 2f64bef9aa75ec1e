package inject

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEnvFrom(t *testing.T) {
	environ := []string{"SET=explicit", "A_FILE=/run/secrets/a"}
	p := fakeFiles{
		"one.json":       `{"ONE":"1","SET":"from-secret","NUM":5432,"OBJ":{"k":[1,2]},"NULL":null,"A":"x"}`,
		"two.json":       `{"ONE":"shadowed","TWO":"2"}`,
		"/run/secrets/a": "from-file",
	}
	sc := Scan(environ, ScanOptions{Stores: testStores, FileStore: "file", EnvFrom: []string{"file:one.json", "file:two.json", "file:none?optional=true"}, EnvFromVar: "N8N_SECRETS_ENV_FROM"})
	if len(sc.Errs) > 0 {
		t.Fatal(sc.Errs)
	}
	r := &Resolver{Providers: map[string]Provider{"file": p}}
	results, errs := r.Resolve(context.Background(), sc.Requests)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	env := map[string]string{}
	var order []string
	for _, kv := range BuildEnv(environ, results, func(n string) bool { return n == "TWO" && false }) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		order = append(order, k)
	}
	want := map[string]string{"SET": "explicit", "A": "from-file", "ONE": "1", "NUM": "5432", "OBJ": `{"k":[1,2]}`, "TWO": "2"}
	if len(env) != len(want) {
		t.Errorf("env %v, want %v", order, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	shadowed := map[string]string{}
	for _, e := range EnvFromLayout(environ, results) {
		if e.ShadowedBy != "" {
			shadowed[e.Name+"#"+string(rune('0'+e.Item))] = e.ShadowedBy
		}
	}
	if shadowed["SET#1"] != "the environment" || shadowed["A#1"] != "the environment" || shadowed["ONE#2"] != "item 1" || len(shadowed) != 3 {
		t.Errorf("shadowed %v", shadowed)
	}
}

func TestEnvFromErrors(t *testing.T) {
	canary := "CANARYvalue42"
	tests := []struct {
		content, msg string
	}{
		{`{"GOOD":"x","not-a-name":"` + canary + `"}`, `key "not-a-name" is not a valid variable name`},
		{`{"1ABC":"` + canary + `"}`, "not a valid variable name"},
		{`["` + canary + `"]`, "not a JSON object"},
		{canary, "not JSON"},
		{`{"K":"a\u0000` + canary + `"}`, "NUL byte"},
	}
	for _, tt := range tests {
		sc := Scan(nil, ScanOptions{Stores: testStores, FileStore: "file", EnvFrom: []string{"file:x"}, EnvFromVar: "N8N_SECRETS_ENV_FROM"})
		r := &Resolver{Providers: map[string]Provider{"file": fakeFiles{"x": tt.content}}}
		_, errs := r.Resolve(context.Background(), sc.Requests)
		if len(errs) != 1 || !errors.Is(errs[0], ErrBadData) || !strings.Contains(errs[0].Error(), tt.msg) ||
			!strings.HasPrefix(errs[0].Error(), "N8N_SECRETS_ENV_FROM: item 1: ") {
			t.Errorf("%.30q: %v, want one BAD_DATA error with %q", tt.content, errs, tt.msg)
			continue
		}
		if strings.Contains(errs[0].Error(), canary) {
			t.Errorf("the error repeats a value: %v", errs[0])
		}
	}
	sc := Scan(nil, ScanOptions{Stores: testStores, FileStore: "file", EnvFrom: []string{"file:x", "vault://x?verison=1"}, EnvFromVar: "N8N_SECRETS_ENV_FROM"})
	if len(sc.Errs) != 1 || !strings.Contains(sc.Errs[0].Error(), "N8N_SECRETS_ENV_FROM: item 2: ") {
		t.Errorf("a malformed item: %v", sc.Errs)
	}
}
