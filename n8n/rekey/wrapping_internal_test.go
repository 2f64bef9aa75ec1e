package rekey

import (
	"strings"
	"testing"
)

// TestRawDataKeyBounds: a data key stored raw is exactly 64 hex digits,
// the length checked apart from the pattern's class.
func TestRawDataKeyBounds(t *testing.T) {
	for _, c := range []struct {
		value string
		want  wrapping
	}{
		{strings.Repeat("a", 64), wrapRaw},
		{strings.Repeat("0F", 32), wrapRaw},
		{strings.Repeat("a", 63), wrapGCM},
		{strings.Repeat("a", 65), wrapGCM},
		{strings.Repeat("a", 63) + "g", wrapGCM},
		{"", wrapGCM},
	} {
		if got := (dkRow{typ: typeDataKey, value: c.value}).wrapping(); got != c.want {
			t.Errorf("wrapping of a %d-character data key %q…: %v, want %v", len(c.value), c.value[:min(len(c.value), 4)], got, c.want)
		}
	}
}
