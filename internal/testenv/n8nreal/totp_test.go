package n8nreal

import (
	"encoding/base32"
	"testing"
	"time"
)

// TestTOTPVectors checks TOTP against RFC 6238's SHA-1 test vectors (the
// 8-digit codes of Appendix B, of which n8n uses the last 6 digits).
func TestTOTPVectors(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		got, err := TOTP(secret, time.Unix(tc.unix, 0))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want[2:] {
			t.Errorf("TOTP at %d = %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
	if _, err := TOTP("not base32!", time.Now()); err == nil {
		t.Error("TOTP accepted a secret that is not base32")
	}
}
