package main

import (
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
)

// TestGraceReadAsN8NReads: N8N_GRACEFUL_SHUTDOWN_TIMEOUT is read as n8n
// reads a number (JavaScript's Number): white space around it, a fraction
// and hexadecimal are n8n's values too, and were refused before (Atoi);
// what n8n would ignore (NaN), a negative value and an overflow are
// refused.
func TestGraceReadAsN8NReads(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 30 * time.Second, true},
		{"30", 30 * time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"2.5", 2500 * time.Millisecond, true},
		{"0x1e", 30 * time.Second, true},
		{"0", 0, true},
		{"30s", 0, false},
		{"-1", 0, false},
		{"1e300", 0, false},
	} {
		got, err := graceOf(environ.New([]string{gracefulShutdownVar + "=" + tc.value}))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %v, %v; want %v, ok %v", tc.value, got, err, tc.want, tc.ok)
		}
	}
	if got, err := graceOf(environ.New(nil)); err != nil || got != defaultGrace {
		t.Errorf("unset: %v, %v", got, err)
	}
}
