package azkv

import (
	"strings"
	"testing"
)

// TestCodeTokenBounds: the lengths the patterns once held ({1,64} and
// {1,48}) are checked apart from the class; the edges answer as before.
func TestCodeTokenBounds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"Forbidden", true},
		{"AKV10032.x-y_z", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"has space", false},
		{"line\n", false},
	} {
		if got := codeToken(c.in) != ""; got != c.want {
			t.Errorf("codeToken(%q) kept: %v, want %v", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		code string
		want string
	}{
		{"invalid_client", "invalid_client"},
		{strings.Repeat("a", 48), strings.Repeat("a", 48)},
		{strings.Repeat("a", 49), ""},
		{"Invalid", ""},
		{"", ""},
	} {
		if got := entraCodeOf([]byte(`{"error":"` + c.code + `"}`)); got != c.want {
			t.Errorf("entraCodeOf(error %q) = %q, want %q", c.code, got, c.want)
		}
	}
}
