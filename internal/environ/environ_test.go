package environ

import (
	"slices"
	"testing"
)

func TestNewFirstWins(t *testing.T) {
	e := New([]string{"A=1", "B=", "A=2", "NOEQUALS"})
	if v, ok := e.Lookup("A"); !ok || v != "1" {
		t.Errorf("A: got %q %v, want the first entry's 1", v, ok)
	}
	if v, ok := e.Lookup("B"); !ok || v != "" {
		t.Errorf("B: got %q %v, want set and empty", v, ok)
	}
	if _, ok := e.Lookup("NOEQUALS"); ok {
		t.Error("an entry without = is looked up")
	}
	if e.Len() != 2 || len(e.List()) != 4 {
		t.Errorf("Len %d, List %d: want 2 and 4", e.Len(), len(e.List()))
	}
}

func TestUnderKeepsOwnValues(t *testing.T) {
	e := New([]string{"A=env"})
	u := e.Under([]string{"A=file", "C=file"})
	if !slices.Equal(u.List(), []string{"A=env", "C=file"}) {
		t.Errorf("got %q", u.List())
	}
	if e.Get("C") != "" || len(e.List()) != 1 {
		t.Error("Under changed the Env it was called on")
	}
}

func TestZero(t *testing.T) {
	var e Env
	if e.Get("X") != "" || e.Len() != 0 || e.Map() == nil {
		t.Error("the zero Env is not empty")
	}
}
