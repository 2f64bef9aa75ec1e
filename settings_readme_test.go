package main

import (
	"os"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/settings"
)

// renderSettings renders the settings of group as a README table.
func renderSettings(group string) string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, d := range settings.Table {
		if d.Group != group {
			continue
		}
		def := ""
		if d.Def != "" {
			def = "`" + d.Def + "`"
		}
		help := d.Help
		if d.Allowed != nil && !strings.Contains(help, "`"+d.Allowed[0]+"`") {
			quoted := make([]string, len(d.Allowed))
			for i, a := range d.Allowed {
				quoted[i] = "`" + a + "`"
			}
			help += ": " + strings.Join(quoted, ", ")
		}
		b.WriteString("| `" + d.VarName() + "` | `--" + d.Flag + "` | " + def + " | " + help + " |\n")
	}
	if group == settings.GroupSupervise {
		b.WriteString("| `N8N_GRACEFUL_SHUTDOWN_TIMEOUT` | | `30` | n8n's own setting (seconds): when set, the default of `N8N_SECRETS_KILL_TIMEOUT` |\n")
	}
	return b.String()
}

// TestREADMESettings: the README's tables of settings are settings.Table,
// rendered (go test -run TestREADMESettings -update rewrites them).
func TestREADMESettings(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	for _, group := range []string{"", settings.GroupSupervise} {
		name := "settings"
		if group != "" {
			name += "-" + group
		}
		begin := "<!-- " + name + ":begin (generated from internal/settings: go test -run TestREADMESettings -update) -->"
		end := "<!-- " + name + ":end -->"
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the markers %q and %q", begin, end)
		}
		want := begin + "\n" + renderSettings(group) + end
		if s[i:j+len(end)] != want {
			if !*update {
				t.Errorf("README.md's table %s differs from settings.Table: run go test -run TestREADMESettings -update", name)
				continue
			}
			s = s[:i] + want + s[j+len(end):]
		}
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
