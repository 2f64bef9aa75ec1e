package cipher

import "strings"

// Format is how one stored value is encrypted.
type Format string

// Formats of stored values.
const (
	// FormatCBC is CBC under a key string, without a prefix: every value of
	// n8n 1.x, and of 2.x without key rotation. n8n 2.x decrypts it with
	// the key held by the stored legacy data_encryption row.
	FormatCBC Format = "cbc"
	// FormatPrefixed is "<keyId>:<ciphertext>": the ciphertext is under the
	// data key of deployment_key row keyId (GCM, or CBC when that row's
	// algorithm is aes-256-cbc).
	FormatPrefixed Format = "prefixed"
	// FormatWrapped is a deployment_key value: GCM under the wrapping key
	// derived from the instance key.
	FormatWrapped Format = "wrapped"
	// FormatUnknown is anything else; it is not decrypted.
	FormatUnknown Format = "unknown"
)

// Value is a stored value split into its parts.
type Value struct {
	Format Format
	KeyID  string // FormatPrefixed only
	Body   string // the ciphertext, without the prefix
}

// ParseValue splits a stored value: "<keyId>:<ciphertext>" when it starts
// with an id of 1 to 36 characters of [A-Za-z0-9_-] and a colon (base64
// has no colon, so a CBC value never matches), CBC when it starts with
// CBCPrefix, else FormatUnknown.
func ParseValue(s string) Value {
	if id, body, ok := strings.Cut(s, ":"); ok && validKeyID(id) {
		return Value{Format: FormatPrefixed, KeyID: id, Body: body}
	}
	if strings.HasPrefix(s, CBCPrefix) {
		return Value{Format: FormatCBC, Body: s}
	}
	return Value{Format: FormatUnknown, Body: s}
}

// Stored writes the value back in its stored form.
func (v Value) Stored() string {
	if v.Format == FormatPrefixed {
		return v.KeyID + ":" + v.Body
	}
	return v.Body
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LooksEncrypted reports whether s has the shape of a value n8n encrypted
// (CBC or prefixed), without decrypting it.
func LooksEncrypted(s string) bool {
	return ParseValue(s).Format != FormatUnknown
}
