package main

import (
	"fmt"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/internal/cmdline"
	"github.com/n8n-secrets/n8n-secrets/n8n"
	"github.com/n8n-secrets/n8n-secrets/n8n/n8nenv"
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
		return nil, func(s *settings, environ, _ []string, _ []int) int { return fingerprintCmd(s, environ) }
	},
}

// fingerprintCmd resolves N8N_ENCRYPTION_KEY (only it) and prints its
// fingerprint, so that nodes can be compared without showing the key.
func fingerprintCmd(s *settings, environ []string) int {
	const key = "N8N_ENCRYPTION_KEY"
	var only []string
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); name == key || name == key+"_FILE" || ownedVars.Match(name) {
			only = append(only, kv)
		}
	}
	log := s.logger()
	ctx, sigs, done := begin(s)
	defer done()
	// n8n reads N8N_ENCRYPTION_KEY_FILE itself wherever it is: so does
	// the command that fingerprints its key, mounts or not.
	ks := *s
	ks.FileVars = strings.Join([]string{s.FileVars, key}, ",")
	o := prepare(ctx, &ks, only, nil, log, true)
	if sig := sigs.received(); sig != 0 {
		return exitOf(sig, false)
	}
	for _, err := range o.errs {
		o.logFailure(log, err)
	}
	if len(o.errs) > 0 {
		return exitOf(0, false, failedCodes(o.errs)...)
	}
	// The key as n8n reads it: N8N_ENCRYPTION_KEY_FILE left to n8n read
	// as n8n reads it, the key trimmed and unquoted.
	env, err := n8nenv.ReadFiles(ctx, envMap(o.env), []string{key})
	if err != nil {
		log.Error("no encryption key", "code", n8n.CodeKeyMissing, "error", err.Error())
		return exitOf(0, false, n8n.CodeKeyMissing)
	}
	v := n8n.KeyOf(env)
	if v == "" {
		return fail(s, missingKey(environ))
	}
	fmt.Println(n8n.Fingerprint(v))
	return 0
}
