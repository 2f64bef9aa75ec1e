package main

import (
	"fmt"

	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
	"github.com/n8n-secrets/n8n-secrets/start"
)

var fingerprintCommand = &command{
	name: "fingerprint", usage: "[flags]",
	summary: "print the fingerprint of N8N_ENCRYPTION_KEY as resolved",
	about: `Resolves N8N_ENCRYPTION_KEY alone (a reference, or N8N_ENCRYPTION_KEY_FILE)
and prints its fingerprint: 16 hexadecimal digits that tell keys apart
without showing them. Compare it across nodes, or pin it with
N8N_SECRETS_EXPECT_KEY_FINGERPRINT.`,
	settings: true,
	setup: func() ([]*cmdline.Flag, runFunc) {
		return nil, func(s *settings.Settings, env environ.Env, _ []string, _ []int) error { return fingerprintCmd(s, env) }
	},
}

// fingerprintCmd resolves N8N_ENCRYPTION_KEY (only it) and prints its
// fingerprint, so that nodes can be compared without showing the key.
func fingerprintCmd(s *settings.Settings, env environ.Env) error {
	const key = "N8N_ENCRYPTION_KEY"
	log := s.Logger()
	r := start.Begin(s.Timeout)
	defer r.Done()
	// n8n reads N8N_ENCRYPTION_KEY_FILE itself wherever it is: so does
	// the command that fingerprints its key, mounts or not.
	resolved, err := r.ResolveOnly(start.Options{Settings: s, Env: env, Stores: stores, Log: log}, start.Only{
		Keep:     func(name string) bool { return name == key || name == key+"_FILE" },
		FileVars: []string{key},
	})
	if err != nil {
		return err
	}
	// The key as n8n reads it: N8N_ENCRYPTION_KEY_FILE left to n8n read
	// as n8n reads it, the key trimmed and unquoted.
	view, err := n8nenv.ReadFiles(r.Ctx, resolved.Map(), []string{key})
	if err != nil {
		log.Error("no encryption key", "code", n8n.CodeKeyMissing, "error", err.Error())
		return failure.Logged(n8n.CodeKeyMissing)
	}
	v := n8n.KeyOf(view)
	if v == "" {
		return missingKey(env)
	}
	fmt.Println(n8n.Fingerprint(v))
	return nil
}
