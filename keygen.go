package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
)

// keygenCmd prints a new random encryption key: 32 bytes, base64, with a
// newline only when stdout is a terminal (so $(…) and pipes get the bare key).
func keygenCmd(s *settings, _, args []string) int {
	if len(args) > 0 {
		return fail(s, usagef("n8n-secrets keygen", "keygen takes no arguments"))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fail(s, fmt.Errorf("keygen: %w", err))
	}
	fmt.Print(base64.StdEncoding.EncodeToString(b))
	if st, err := os.Stdout.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		fmt.Println()
	}
	return 0
}
