package main

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/install"
	"github.com/n8n-secrets/n8n-secrets/internal/awscfg"
	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
	"github.com/n8n-secrets/n8n-secrets/start"
	"github.com/n8n-secrets/n8n-secrets/supervise"
	"github.com/n8n-secrets/n8n-secrets/watch"
)

var update = flag.Bool("update", false, "rewrite the README's generated tables (codes, exit codes, settings)")

const (
	codesBegin = "<!-- codes:begin (generated from the packages' Codes: go test -run TestREADMECodes -update) -->"
	codesEnd   = "<!-- codes:end -->"
	exitsBegin = "<!-- exit-codes:begin (generated from exitTable and the packages' Codes: go test -run TestREADMECodes -update) -->"
	exitsEnd   = "<!-- exit-codes:end -->"
)

// renderCodes renders codeTable as the README's Markdown table.
func renderCodes() string {
	var b strings.Builder
	b.WriteString("| code | level | meaning |\n|---|---|---|\n")
	for _, c := range codeTable() {
		b.WriteString("| `" + c.Name() + "` | " + c.Level() + " | " + c.Meaning() + " |\n")
	}
	return b.String()
}

// renderExits renders exitTable as the README's Markdown table, each row
// with the codes whose Exit is its own.
func renderExits() string {
	var b strings.Builder
	b.WriteString("| code | when | the log's codes |\n|---|---|---|\n")
	for _, e := range exitTable {
		var names []string
		for _, c := range exitCodes(e) {
			names = append(names, "`"+c.Name()+"`")
		}
		b.WriteString("| " + strconv.Itoa(e.Code) + " | " + e.When + " | " + strings.Join(names, ", ") + " |\n")
	}
	return b.String()
}

// TestREADMECodes: the README's table of codes is codeTable, rendered, and
// its table of exit codes is exitTable with each row's codes; -update
// rewrites both.
func TestREADMECodes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	for _, tb := range []struct{ begin, end, body string }{
		{codesBegin, codesEnd, renderCodes()},
		{exitsBegin, exitsEnd, renderExits()},
	} {
		i, j := strings.Index(s, tb.begin), strings.Index(s, tb.end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the markers %q and %q", tb.begin, tb.end)
		}
		want := tb.begin + "\n" + tb.body + tb.end
		if got := s[i : j+len(tb.end)]; got != want {
			if !*update {
				t.Errorf("README.md's table between %q and %q differs from the code: run go test -run TestREADMECodes -update", tb.begin, tb.end)
				continue
			}
			s = s[:i] + want + s[j+len(tb.end):]
		}
	}
	if *update && s != string(readme) {
		if err := os.WriteFile("README.md", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCodesDeclared: every code of codeTable is declared once, with a
// level and a meaning; a code's exit is a row of exitTable, and every row
// names at least one code.
func TestCodesDeclared(t *testing.T) {
	table := codeTable()
	if index := logcode.Index(table); len(index) != len(table) || len(table) < 100 {
		t.Fatalf("%d codes, %d names: a code is declared twice, or a package's list is missing", len(table), len(index))
	}
	rows := map[int]bool{}
	for _, e := range exitTable {
		rows[e.Code] = true
		if len(exitCodes(e)) == 0 {
			t.Errorf("no code stops a command with exit %d", e.Code)
		}
	}
	for _, c := range table {
		if c.Level() == "" || c.Meaning() == "" || c.Name() != strings.ToUpper(c.Name()) {
			t.Errorf("%q lacks a level or a meaning, or is not UPPER_SNAKE", c.Name())
		}
		if c.Exit() != 0 && c.Exit() != logcode.ExitSignal && !rows[c.Exit()] {
			t.Errorf("%s exits %d, which is not a row of exitTable", c.Name(), c.Exit())
		}
	}
}

// TestCodeTableHasEveryPackage: every package that declares a logcode.Set
// (found in the source) has every code of its list in codeTable, so that a
// package's list left out of codeTable fails here, not when an end-to-end
// test happens to log one of its codes.
func TestCodeTableHasEveryPackage(t *testing.T) {
	lists := map[string]func() []logcode.Code{
		".": mainCodes.Codes, "inject": inject.Codes, "providers/vault": vault.Codes, "providers/awssm": awssm.Codes,
		"internal/awscfg": awscfg.Codes, "n8n": n8n.Codes, "metrics": metrics.Codes, "supervise": supervise.Codes,
		"watch": watch.Codes, "n8n/rekey": rekey.Codes, "install": install.Codes,
		"start": start.Codes, "internal/settings": settings.Codes,
	}
	decl := regexp.MustCompile(`(?m)^var \w+ logcode\.Set$`)
	declared := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if decl.Match(b) {
			declared[filepath.ToSlash(filepath.Dir(path))] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range declared {
		if lists[dir] == nil {
			t.Errorf("%s declares a logcode.Set: add its Codes to codeTable and to this test", dir)
		}
	}
	listed := map[logcode.Code]bool{}
	for _, c := range codeTable() {
		listed[c] = true
	}
	for dir, codes := range lists {
		if !declared[dir] {
			t.Errorf("%s declares no logcode.Set any more: this test's list is stale", dir)
		}
		for _, c := range codes() {
			if !listed[c] {
				t.Errorf("%s's code %s is not in codeTable", dir, c)
			}
		}
	}
}
