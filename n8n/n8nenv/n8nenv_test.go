package n8nenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
)

// jsCorpus are strings whose trim() and Number() differ between
// JavaScript and Go's obvious functions.
var jsCorpus = []string{
	"", " ", "5432", " 5432 ", "\t5432\n", "0x1538", "0X1538", "0o12", "0b101", "-0x10", "+5432", "-5",
	"5432.9", ".5", "5.", "1e3", "1E+3", "1e", "e3", "Infinity", "-Infinity", "infinity", "inf", "NaN",
	"1_000", "5432abc", "0x", "00012", "1e400", "\u00a05432\ufeff", "5432\u0085", "\u20285432\u2029",
	"\u30005432", "\"5432\"", "'x'", "0.0000001", "9007199254740993",
}

// TestJSBuiltins: TrimJS and NumberJS are JavaScript's trim() and
// Number(), as the node that runs the real n8n computes them.
func TestJSBuiltins(t *testing.T) {
	in := n8nreal.V1(t)
	b, _ := json.Marshal(jsCorpus)
	cmd := exec.Command("node", "-e", `
const xs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(xs.map(x => [x.trim(), String(Number(x))])));`)
	for _, kv := range in.Environ(t.TempDir()) {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			cmd.Env = []string{kv}
			for _, dir := range filepath.SplitList(p) {
				if _, err := os.Stat(filepath.Join(dir, "node")); err == nil {
					cmd.Path = filepath.Join(dir, "node")
					break
				}
			}
		}
	}
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want [][2]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range jsCorpus {
		if got := TrimJS(s); got != want[i][0] {
			t.Errorf("trim(%q) = %q, JavaScript %q", s, got, want[i][0])
		}
		got := NumberJS(s)
		if w := want[i][1]; w == "NaN" && !math.IsNaN(got) || w != "NaN" && jsNumberString(got) != w {
			t.Errorf("Number(%q) = %v, JavaScript %s", s, got, w)
		}
	}
}

// jsNumberString formats n as JavaScript's String(n) does for the corpus.
func jsNumberString(n float64) string {
	switch {
	case math.IsInf(n, 1):
		return "Infinity"
	case math.IsInf(n, -1):
		return "-Infinity"
	case n == 0:
		return "0"
	case math.Abs(n) < 1e-6 || math.Abs(n) >= 1e21:
		s := strconv.FormatFloat(n, 'e', -1, 64)
		return strings.Replace(strings.Replace(s, "e-0", "e-", 1), "e+0", "e+", 1)
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		`  "key"  `:       "key",
		`'key'`:           "key",
		`"key'`:           `"key'`,
		`""`:              "",
		`"`:               `"`,
		`""key""`:         `"key"`,
		"\"a\nb\"":        "\"a\nb\"",
		"\"a\u2028b\"":    "\"a\u2028b\"",
		"\ufeff'k'\u00a0": "k",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReaders(t *testing.T) {
	env := map[string]string{"S": ` "v" `, "E": "", "N": " 0x10 ", "NE": "", "NQ": `""`, "NX": "x", "B": "TRUE", "BS": " true", "B0": "0"}
	if String(env, "S", "d") != "v" || String(env, "E", "d") != "" || String(env, "U", "d") != "d" {
		t.Error("String")
	}
	if v, ok := Number(env, "N", 1); v != 16 || !ok {
		t.Error("Number hex")
	}
	for _, k := range []string{"NE", "NQ", "U"} {
		if v, ok := Number(env, k, 5432); v != 5432 || !ok {
			t.Errorf("Number %s: n8n 2.40 keeps the default", k)
		}
	}
	if v, ok := Number(env, "NX", 5432); v != 5432 || ok {
		t.Error("Number NaN: the default, and not valid")
	}
	if v, ok := Bool(env, "B", false); !v || !ok {
		t.Error("Bool TRUE")
	}
	if v, ok := Bool(env, "BS", false); v || ok {
		t.Error("Bool is not trimmed by n8n")
	}
	if v, ok := Bool(env, "B0", true); v || !ok {
		t.Error("Bool 0")
	}
	if v, ok := Enum(env, "S", "d", "v"); v != "v" || !ok {
		t.Error("Enum")
	}
	if v, ok := Enum(map[string]string{"T": "postgres"}, "T", "sqlite", "sqlite", "postgresdb"); v != "sqlite" || ok {
		t.Error("Enum default")
	}
}

// TestReadFiles: NAME_FILE as n8n reads it: NAME set (even to "") wins,
// the contents trimmed as JavaScript trims; a missing file or a FIFO is a
// FileError naming NAME_FILE and the path, never the contents, at once.
func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	canary := "CANARY-n8nenv-file"
	env := map[string]string{
		"A_FILE": write("a", "\ufeff a-value \r\n"),
		"B":      "", "B_FILE": write("b", "ignored"),
		"C_FILE": "",
	}
	got, err := ReadFiles(context.Background(), env, []string{"A", "B", "C", "D"})
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "a-value" || got["B"] != "" {
		t.Errorf("got A %q, B %q", got["A"], got["B"])
	}
	if _, ok := got["C"]; ok {
		t.Error("an empty C_FILE is not read")
	}
	if _, ok := env["A"]; ok {
		t.Error("the input was changed")
	}
	_, err = ReadFiles(context.Background(), map[string]string{"K_FILE": filepath.Join(dir, "missing")}, []string{"K"})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Var != "K_FILE" || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing file: %v", err)
	}
	big := write("big", canary+strings.Repeat("x", maxFileSize))
	if _, err := ReadFiles(context.Background(), map[string]string{"K_FILE": big}, []string{"K"}); err == nil || strings.Contains(err.Error(), canary) {
		t.Errorf("a file too large: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Refused for what it is, not abandoned at the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ReadFiles(ctx, map[string]string{"K_FILE": fifo}, []string{"K"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
}
