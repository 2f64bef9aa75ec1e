package n8n

import (
	"strings"
	"testing"
)

// TestKeyVariableMisspelled: N8N_ENCRYPTON_KEY=vault://… resolves like any
// variable, and n8n ignores it. On a main, the guard only warned that the
// key is not set: n8n generated a key of its own, beside a database under
// the cluster's key. A variable one or two typos away from
// N8N_ENCRYPTION_KEY or N8N_ENCRYPTION_KEY_FILE, with the key unset, is a
// refusal on every role, naming it (never its value).
func TestKeyVariableMisspelled(t *testing.T) {
	const canary = "CANARY-key-in-a-misspelled-variable-0123456789"
	for _, name := range []string{"N8N_ENCRYPTON_KEY", "N8N_ENCRYPTION_KEYS", "N8N_ENCRYPTION_KEY_FIEL", "N8N_ENCRPYTION_KEY"} {
		for _, role := range []string{"start", "worker", "webhook"} {
			home := t.TempDir()
			r, err := Check(Options{}, []string{"n8n", role}, map[string]string{name: canary, "HOME": home}, []string{name})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range r.Findings {
				if strings.Contains(f.Message+f.Hint, canary) {
					t.Errorf("%s %s: a finding holds the value: %s", name, role, f.Message)
				}
				if f.Code == CodeKeyMissing && f.Severity == Error && strings.Contains(f.Message, name) {
					found = true
				}
			}
			if !found || !r.Failed() {
				t.Errorf("%s, %s: want an error %s naming %s; findings: %+v", name, role, CodeKeyMissing, name, r.Findings)
			}
		}
	}
	// Other variables are no misspelling of the key.
	r, err := Check(Options{}, []string{"n8n", "start"}, map[string]string{"N8N_ENCRYPTION_ALGO": "x", "HOME": t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() {
		t.Errorf("an unrelated variable refuses a main: %+v", r.Findings)
	}
}
