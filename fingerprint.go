package main

import (
	"fmt"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/n8n"
)

// fingerprintCmd resolves N8N_ENCRYPTION_KEY (only it) and prints its
// fingerprint, so that nodes can be compared without showing the key.
func fingerprintCmd(s *settings, environ, args []string) int {
	if err := parseSub("fingerprint", s, args, nil); err != nil {
		return fail(s, err)
	}
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
		return 128 + int(sig)
	}
	for _, err := range o.errs {
		o.logFailure(log, err)
	}
	if len(o.errs) > 0 {
		return inject.ExitCodeOf(o.errs)
	}
	v := envMap(o.env)[key]
	if v == "" {
		return fail(s, missingKey(environ))
	}
	fmt.Println(n8n.Fingerprint(v))
	return 0
}
