package logcode

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// panics returns the value f panicked with, or nil.
func panics(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// TestSetNew: New returns a code with what it was given, and lists it in
// declaration order.
func TestSetNew(t *testing.T) {
	var s Set
	a := s.New("FIRST_CODE", "info", 0, "the first")
	b := s.New("SECOND_2", "error", 65, "the second")
	c := s.New("THIRD", "error", ExitSignal, "the third")
	if a.Name() != "FIRST_CODE" || a.Level() != "info" || a.Exit() != 0 || a.Meaning() != "the first" {
		t.Errorf("a = %q %q %d %q", a.Name(), a.Level(), a.Exit(), a.Meaning())
	}
	if b.Exit() != 65 || c.Exit() != ExitSignal || a.IsZero() || !(Code{}).IsZero() {
		t.Errorf("b exits %d, c exits %d, a zero %v", b.Exit(), c.Exit(), a.IsZero())
	}
	got := s.Codes()
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Fatalf("Codes() = %v, want [FIRST_CODE SECOND_2 THIRD]", got)
	}
}

// TestSetCodesIsACopy: changing what Codes returned changes neither the set
// nor a later Codes.
func TestSetCodesIsACopy(t *testing.T) {
	var s Set
	a := s.New("A", "info", 0, "a")
	s.New("B", "info", 0, "b")
	got := s.Codes()
	got[0] = got[1]
	_ = append(got[:1], Code{})
	if again := s.Codes(); len(again) != 2 || again[0] != a || again[1].Name() != "B" {
		t.Errorf("the set changed through its copy: %v", again)
	}
}

// TestSetNewRefuses: a bad name, a name declared twice, or a code without
// a level or a meaning panics, and the set keeps what it had.
func TestSetNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, level, meaning, want string
	}{
		{"", "info", "m", "UPPER_SNAKE"},
		{"lower_case", "info", "m", "UPPER_SNAKE"},
		{"Mixed_Case", "info", "m", "UPPER_SNAKE"},
		{"_LEADING", "info", "m", "UPPER_SNAKE"},
		{"TRAILING_", "info", "m", "UPPER_SNAKE"},
		{"DOUBLE__UNDERSCORE", "info", "m", "UPPER_SNAKE"},
		{"9STARTS_WITH_DIGIT", "info", "m", "UPPER_SNAKE"},
		{"HAS SPACE", "info", "m", "UPPER_SNAKE"},
		{"HAS-DASH", "info", "m", "UPPER_SNAKE"},
		{"TAKEN", "info", "m", "declared twice"},
		{"NO_LEVEL", "", "m", "lacks a level or a meaning"},
		{"NO_MEANING", "info", "", "lacks a level or a meaning"},
	} {
		var s Set
		s.New("TAKEN", "warn", 0, "taken")
		v := panics(func() { s.New(tc.name, tc.level, 0, tc.meaning) })
		if msg, _ := v.(string); !strings.Contains(msg, tc.want) {
			t.Errorf("New(%q, %q, 0, %q) panicked with %v, want %q", tc.name, tc.level, tc.meaning, v, tc.want)
		}
		if got := s.Codes(); len(got) != 1 || got[0].Name() != "TAKEN" || got[0].Level() != "warn" {
			t.Errorf("New(%q, …) changed the set: %v", tc.name, got)
		}
	}
}

// TestSetShare: a shared code is listed in both sets, is the same value,
// and a table of both lists it once, at its first place; two different
// codes of one name in a table panic.
func TestSetShare(t *testing.T) {
	var lower, upper Set
	shared := lower.New("SHARED", "warn", 0, "logged by both")
	lower.New("LOWER_ONLY", "info", 0, "lower")
	upper.New("UPPER_ONLY", "info", 0, "upper")
	if got := upper.Share(shared); got != shared {
		t.Errorf("Share returned %v", got)
	}
	table := Table(upper.Codes(), lower.Codes())
	var names []string
	for _, c := range table {
		names = append(names, c.Name())
	}
	if strings.Join(names, " ") != "UPPER_ONLY SHARED LOWER_ONLY" {
		t.Errorf("Table = %v", names)
	}
	if v := panics(func() { upper.Share(shared) }); v == nil {
		t.Error("sharing a code twice did not panic")
	}
	if v := panics(func() { upper.Share(Code{}) }); v == nil {
		t.Error("sharing the zero code did not panic")
	}
	var other Set
	impostor := other.New("SHARED", "error", 65, "another meaning")
	if v := panics(func() { Table(lower.Codes(), other.Codes()) }); v == nil {
		t.Error("two codes named SHARED in one table did not panic")
	}
	if v := panics(func() { Index(lower.Codes(), []Code{impostor}) }); v == nil {
		t.Error("two codes named SHARED in one index did not panic")
	}
	if idx := Index(upper.Codes(), lower.Codes()); len(idx) != 3 || idx["SHARED"] != shared {
		t.Errorf("Index = %v", idx)
	}
}

// TestCodeOutputs: a code logs, prints and marshals as its name, and a zero
// code is left out by omitzero.
func TestCodeOutputs(t *testing.T) {
	var s Set
	c := s.New("SOME_CODE", "error", 65, "meaning `x`")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "code", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "code", c)
	if out := buf.String(); !strings.Contains(out, `"code":"SOME_CODE"`) || !strings.Contains(out, "code=SOME_CODE") ||
		strings.Contains(out, "meaning") || strings.Contains(out, "65") {
		t.Errorf("logged as %q", out)
	}
	type doc struct {
		Code  Code   `json:"code,omitzero"`
		Codes []Code `json:"codes,omitempty"`
	}
	b, err := json.Marshal(doc{Code: c, Codes: []Code{c, c}})
	if err != nil || string(b) != `{"code":"SOME_CODE","codes":["SOME_CODE","SOME_CODE"]}` {
		t.Errorf("marshaled as %s, %v", b, err)
	}
	if b, err := json.Marshal(doc{}); err != nil || string(b) != `{}` {
		t.Errorf("the zero code marshaled as %s, %v", b, err)
	}
	if c.String() != "SOME_CODE" {
		t.Errorf("String() = %q", c.String())
	}
}

// TestSameDeclarationTwoSets: two sets declaring one name alike still make
// two codes, which a table refuses: a code is declared once.
func TestSameDeclarationTwoSets(t *testing.T) {
	var s1, s2 Set
	a := s1.New("SAME", "info", 0, "alike")
	b := s2.New("SAME", "info", 0, "alike")
	if a == b {
		t.Fatal("codes of two sets compare equal")
	}
	if v := panics(func() { Table(s1.Codes(), s2.Codes()) }); v == nil {
		t.Error("a name declared by two sets did not panic in Table")
	}
}
