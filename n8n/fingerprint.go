package n8n

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// fingerprintDomain separates key fingerprints from every other use of
// SHA-256 over the key: n8n itself publishes SHA-256 of the key's second
// half as its instanceId (instance-settings.ts, generateInstanceId), and
// derives its HMAC signature secret as SHA-256("hmac-signature:" + key).
const fingerprintDomain = "n8n-secrets/encryption-key-fingerprint/v1\x00"

// FingerprintLen is the length of a fingerprint: 16 lowercase hex digits.
const FingerprintLen = 16

// Fingerprint returns a short, non-reversible identifier of key, to log on
// every node and compare across nodes without revealing the key:
//
//	hex(SHA-256("n8n-secrets/encryption-key-fingerprint/v1" || 0x00 || key)[:8])
//
// that is the first 8 bytes (64 bits) of the SHA-256 digest of a fixed
// domain-separation prefix followed by the key's bytes exactly as n8n gets
// them (no trimming, no decoding), as 16 lowercase hex digits. For a
// high-entropy key (n8n generates 24 random bytes) it reveals nothing usable.
// A low-entropy key can be found from any hash of it by trying candidates,
// which is why Check warns about keys shorter than 16 characters.
func Fingerprint(key string) string {
	h := sha256.New()
	h.Write([]byte(fingerprintDomain))
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil)[:FingerprintLen/2])
}

// ParseFingerprint normalizes a fingerprint given by a person: case is
// ignored, and ':', '-', '_', '.' and spaces between digits are dropped, so
// "7F3C-9A1E-5B2D-4C6E" is accepted. The error never repeats s, in case a
// key was pasted by mistake.
func ParseFingerprint(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ':' || r == '-' || r == '_' || r == '.' || r == ' ':
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			b.WriteRune(r)
		case r >= 'A' && r <= 'F':
			b.WriteRune(r - 'A' + 'a')
		default:
			return "", fmt.Errorf("n8n: %s must be %d hex digits as printed by n8n-secrets, got a character that is not a hex digit", SettingExpectFingerprint, FingerprintLen)
		}
	}
	if b.Len() != FingerprintLen {
		return "", fmt.Errorf("n8n: %s must be %d hex digits as printed by n8n-secrets, got %d", SettingExpectFingerprint, FingerprintLen, b.Len())
	}
	return b.String(), nil
}
