package main

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's table of codes from codeTable")

const (
	codesBegin = "<!-- codes:begin (generated from codes.go: go test -run TestREADMECodes -update) -->"
	codesEnd   = "<!-- codes:end -->"
)

// renderCodes renders codeTable as the README's Markdown table.
func renderCodes() string {
	var b strings.Builder
	b.WriteString("| code | level | meaning |\n|---|---|---|\n")
	for _, c := range codeTable {
		b.WriteString("| `" + c.Code + "` | " + c.Level + " | " + c.Meaning + " |\n")
	}
	return b.String()
}

// TestREADMECodes: the README's table of codes is codeTable, rendered.
func TestREADMECodes(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, codesBegin), strings.Index(s, codesEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q and %q", codesBegin, codesEnd)
	}
	want := codesBegin + "\n" + renderCodes() + codesEnd
	if got := s[i : j+len(codesEnd)]; got != want {
		if *update {
			if err := os.WriteFile("README.md", []byte(s[:i]+want+s[j+len(codesEnd):]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Error("README.md's table of codes differs from codeTable: run go test -run TestREADMECodes -update")
	}
}

// codeConst matches the name of a code constant: CodeX or codeX.
var codeConst = regexp.MustCompile(`^[Cc]ode[A-Z]`)

// codeValue matches a stable code.
var codeValue = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// TestEveryCodeListed: every code constant declared in the project's
// packages (a constant named Code… or code… holding an UPPER_SNAKE string)
// is in codeTable, once.
func TestEveryCodeListed(t *testing.T) {
	listed := map[string]int{}
	for _, c := range codeTable {
		listed[c.Code]++
		if listed[c.Code] > 1 {
			t.Errorf("%s is listed twice", c.Code)
		}
		if c.Meaning == "" || c.Level == "" {
			t.Errorf("%s lacks a level or a meaning", c.Code)
		}
	}
	declared := declaredCodes(t)
	if len(declared) < 40 {
		t.Fatalf("found only %d code constants: the scan is broken", len(declared))
	}
	for code, where := range declared {
		if listed[code] == 0 {
			t.Errorf("%s (declared in %s) is not in codeTable", code, where)
		}
	}
}

// declaredCodes returns the code constants of the project's Go files (not
// tests, not tools or test servers), with where each is declared.
func declaredCodes(t *testing.T) map[string]string {
	t.Helper()
	codes := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// audit's finding codes are documented with its rules (docs/audit.md).
		if d.IsDir() && (path == "tools" || path == "internal" || path == "examples" || path == "audit" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !codeConst.MatchString(name.Name) || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(lit.Value); err == nil && codeValue.MatchString(v) {
						codes[v] = path + ": " + name.Name
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}
