package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"

	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"

	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
)

var keygenCommand = &command{
	name: "keygen", summary: "print a new random encryption key (32 bytes, base64)",
	about: `Prints a new random key for N8N_ENCRYPTION_KEY: 32 bytes from the system's
random source, in base64, with a newline only when stdout is a terminal (so
that $(n8n-secrets keygen) and pipes get the bare key).`,
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(s *settings.Settings, _ environ.Env, _ []string, _ []int) error { return keygenCmd() }
	},
}

// keygenCmd prints a new random encryption key: 32 bytes, base64, with a
// newline only when stdout is a terminal (so $(…) and pipes get the bare key).
func keygenCmd() error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Print(base64.StdEncoding.EncodeToString(b))
	if cmdline.IsTerminal(os.Stdout) {
		fmt.Println()
	}
	return nil
}
