package start

import (
	"strings"
	"testing"
)

// TestPlainCommand: what a command not found may be named by in the log,
// at the bounds of its rule.
func TestPlainCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"n8n", true},
		{"/usr/local/bin/n8n", true},
		{"node-20.x_+", true},
		{strings.Repeat("g", 128), true},
		{strings.Repeat("g", 129), false},
		{"", false},
		{"N8n", false},
		{"n8n start", false},
		{"n8n\n", false},
		{strings.Repeat("0123456789abcdef", 1)[:16] + "0123456", true}, // 23 hex digits
		{"x" + strings.Repeat("0123456789abcdef", 2)[:24], false},      // 24 hex digits
		{strings.Repeat("abcdef0123g", 10), true},                      // runs of 10
		{"prefix-" + strings.Repeat("9f", 16), false},                  // openssl rand -hex 16
	} {
		if got := plainCommand(tc.name); got != tc.want {
			t.Errorf("plainCommand(%d bytes) = %v, want %v", len(tc.name), got, tc.want)
		}
	}
}
