package main

import (
	"os"
	"strings"
	"testing"
)

// renderSettings renders the settings of group as a README table.
func renderSettings(group string) string {
	var b strings.Builder
	b.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, d := range settingsTable {
		if d.group != group {
			continue
		}
		def := ""
		if d.def != "" {
			def = "`" + d.def + "`"
		}
		help := d.help
		if d.allowed != nil && !strings.Contains(help, "`"+d.allowed[0]+"`") {
			quoted := make([]string, len(d.allowed))
			for i, a := range d.allowed {
				quoted[i] = "`" + a + "`"
			}
			help += ": " + strings.Join(quoted, ", ")
		}
		b.WriteString("| `" + d.varName() + "` | `--" + d.flag + "` | " + def + " | " + help + " |\n")
	}
	if group == groupSupervise {
		b.WriteString("| `N8N_GRACEFUL_SHUTDOWN_TIMEOUT` | | `30` | n8n's own setting (seconds): when set, the default of `N8N_SECRETS_KILL_TIMEOUT` |\n")
	}
	return b.String()
}

// TestREADMESettings: the README's tables of settings are settingsTable,
// rendered (go test -run TestREADMESettings -update rewrites them).
func TestREADMESettings(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	for _, group := range []string{"", groupSupervise} {
		name := "settings"
		if group != "" {
			name += "-" + group
		}
		begin := "<!-- " + name + ":begin (generated from settings.go: go test -run TestREADMESettings -update) -->"
		end := "<!-- " + name + ":end -->"
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the markers %q and %q", begin, end)
		}
		want := begin + "\n" + renderSettings(group) + end
		if s[i:j+len(end)] != want {
			if !*update {
				t.Errorf("README.md's table %s differs from settingsTable: run go test -run TestREADMESettings -update", name)
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
