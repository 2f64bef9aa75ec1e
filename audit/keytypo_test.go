package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyVariableMisspelled: a service whose key is set under a misspelt
// name (N8N_ENCRYPTON_KEY) has no key for n8n, and the start refuses it
// (the guard's N8N_KEY_MISSING, every role). The audit called a lone main
// with it a warning ("n8n generates one"); it is an error naming the
// variable, at its line.
func TestKeyVariableMisspelled(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(f, []byte(`services:
  n8n:
    image: n8nio/n8n:2.40.0
    entrypoint: ["tini", "--", "/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]
    environment:
      N8N_ENCRYPTON_KEY: vault://secret/n8n/core#encryption_key
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := run(t, f)
	found := false
	for _, fd := range rep.Findings {
		if fd.Code == CodeKeyMissing {
			if fd.Severity != Error || !strings.Contains(fd.Message, "N8N_ENCRYPTON_KEY") || fd.Line != 6 {
				t.Errorf("%s %s line %d: %s: want an error naming N8N_ENCRYPTON_KEY at line 6", fd.Code, fd.Severity, fd.Line, fd.Message)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("no %s finding: %+v", CodeKeyMissing, rep.Findings)
	}
}
