package inject

import (
	"fmt"
	"log/slog"
)

// redacted is what every formatting path prints in place of a value.
const redacted = "[REDACTED]"

// Secret holds a secret value. Its String, GoString, Format, MarshalJSON,
// MarshalText and LogValue methods all print [REDACTED], so that a value
// passed by mistake to fmt, encoding/json or log/slog is not revealed. The
// bytes are held by a closure, so that even a reflective dump of a struct
// holding a Secret in an unexported field (where fmt cannot call the
// methods) prints a function's address, never the bytes: a pointer to the
// bytes would be dereferenced by fmt's error path for a verb like %s.
//
// The zero Secret is empty. Use [Secret.Reveal] to read the value; callers
// must not keep or modify the returned slice beyond the immediate use.
type Secret struct {
	get func() []byte
}

// NewSecret returns a Secret holding b. The Secret takes ownership of b.
func NewSecret(b []byte) Secret {
	return Secret{get: func() []byte { return b }}
}

// Reveal returns the value's bytes. It is the only way to read them.
func (s Secret) Reveal() []byte {
	if s.get == nil {
		return nil
	}
	return s.get()
}

// Len returns the length of the value in bytes; lengths are not secret.
func (s Secret) Len() int { return len(s.Reveal()) }

// String implements fmt.Stringer and prints [REDACTED].
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer and prints [REDACTED].
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb (%v, %+v, %s, %q, %x,
// %d, …) prints [REDACTED].
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON implements json.Marshaler and encodes "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler and encodes [REDACTED].
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer and logs [REDACTED].
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
