package envfile

import (
	"strings"
	"testing"
)

func parse(t *testing.T, src string, env map[string]string) map[string]string {
	t.Helper()
	vars, _, err := Parse([]byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	m := map[string]string{}
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	return m
}

// TestComposeSyntax: the cases of Compose's documentation of the .env
// syntax, and its interpolation.
func TestComposeSyntax(t *testing.T) {
	src := "# a comment\n" +
		"\n" +
		"VAR=VAL\n" +
		"Q=\"VAL\"\n" +
		"S='VAL'\n" +
		"C=VAL # comment\n" +
		"H=VAL# not a comment\n" +
		"QC=\"VAL # not a comment\"\n" +
		"QC2=\"VAL\" # comment\n" +
		"LIT='$OTHER ${OTHER}'\n" +
		"ESC='Let\\'s go!'\n" +
		"JSON=\"{\\\"hello\\\": \\\"json\\\"}\"\n" +
		"TAB=\"some\\tvalue\"\n" +
		"TABS='some\\tvalue'\n" +
		"TABU=some\\tvalue\n" +
		"MULTI='SOME\nVALUE'\n" +
		"MULTID=\"A\nB\"\n" +
		"export EXP=yes\n" +
		"EMPTY=\n" +
		"  SPACED  =  padded  \n" +
		"FROMENV=$OTHER\n" +
		"BRACED=${OTHER}/x\n" +
		"DEF=${UNSET:-default}\n" +
		"DEF2=${EMPTYENV:-default}\n" +
		"DEF3=${EMPTYENV-default}\n" +
		"ALT=${OTHER:+alt}\n" +
		"DOLLAR=$$OTHER\n" +
		"EARLIER=${VAR}-x\n" +
		"NESTED=${UNSET:-${OTHER}}\n" +
		"OURS=postgres://n8n:${vault://secret/n8n/db#password}@db/n8n\n" +
		"OURSQ=\"${file:x}\"\n" +
		"ALONE\n" +
		"DOT.NAME=ok\n" +
		"CRLF=v\r\n"
	m := parse(t, src, map[string]string{"OTHER": "other", "EMPTYENV": ""})
	want := map[string]string{
		"VAR": "VAL", "Q": "VAL", "S": "VAL", "C": "VAL", "H": "VAL# not a comment", "QC": "VAL # not a comment", "QC2": "VAL",
		"LIT": "$OTHER ${OTHER}", "ESC": "Let's go!", "JSON": `{"hello": "json"}`, "TAB": "some\tvalue", "TABS": `some\tvalue`,
		"TABU": `some\tvalue`, "MULTI": "SOME\nVALUE", "MULTID": "A\nB", "EXP": "yes", "EMPTY": "", "SPACED": "padded",
		"FROMENV": "other", "BRACED": "other/x", "DEF": "default", "DEF2": "default", "DEF3": "", "ALT": "alt",
		"DOLLAR": "$OTHER", "EARLIER": "VAL-x", "NESTED": "other",
		"OURS": "postgres://n8n:${vault://secret/n8n/db#password}@db/n8n", "OURSQ": "${file:x}", "DOT.NAME": "ok", "CRLF": "v",
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if _, ok := m["ALONE"]; ok {
		t.Error("a name alone takes the environment's value, and adds nothing")
	}
	if len(m) != len(want) {
		t.Errorf("%d variables, want %d", len(m), len(want))
	}
}

func TestLastWinsAndWarnings(t *testing.T) {
	vars, warnings, err := Parse([]byte("A=1\nB=$MISSING\nA=2\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) != 2 || vars[0].Name != "A" || vars[0].Value != "2" {
		t.Errorf("vars %v", vars)
	}
	if len(warnings) != 1 || warnings[0].Var != "MISSING" || warnings[0].Line != 2 {
		t.Errorf("warnings %v", warnings)
	}
}

// TestErrorsNameTheLine: every error names its line and kind, never the
// text (a value may be a secret).
func TestErrorsNameTheLine(t *testing.T) {
	canary := "CANARYsecret99"
	tests := []struct {
		src  string
		line int
		msg  string
	}{
		{"A=1\nB='" + canary + "\n", 2, "not closed"},
		{"A=1\n\nB=\"" + canary + "\n", 3, "not closed"},
		{"A=\"x\" " + canary + "\n", 1, "after the closing quote"},
		{"A=1\nMY KEY=" + canary + "\n", 2, "Compose does not allow"},
		{"A@B=" + canary + "\n", 1, "Compose does not allow"},
		{"=" + canary + "\n", 1, "expected NAME=value"},
		{"A=${B" + canary + "\n", 1, "not closed"},
		{"A=${REQ:?" + canary + "}\n", 1, "REQ must be set"},
		{"A=\"a\\0" + canary + "\"\n", 1, "NUL"},
		{"A=" + canary + "\x00\n", 1, "NUL"},
	}
	for _, tt := range tests {
		_, _, err := Parse([]byte(tt.src), nil)
		e, ok := err.(*Error)
		if !ok || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: %v, want line %d: %s", tt.src, err, tt.line, tt.msg)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("the error repeats the text: %v", err)
		}
	}
}

// FuzzParse: never panics, and an error never repeats the file's text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1", "A='x", "A=\"${B:-${C}}\"", "export A=$$x # c", "A=${vault://x}", "A=${X:?CANARY}", "CANARY"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _, err := Parse([]byte(src), func(string) (string, bool) { return "", false })
		if err != nil && strings.Contains(src, "CANARY") && strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("the error repeats the text: %v", err)
		}
	})
}
