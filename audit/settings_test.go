package audit

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestSettingInvalid: the N8N_SECRETS_* variables a start of n8n-secrets
// refuses with exit 64 (a misspelt setting, which would leave a
// fingerprint pin silently off; a value its setting does not take) are
// errors naming the variable and the problem at its line, never the value;
// good settings, unknown values (${…}) and a container that is not n8n's
// and runs no n8n-secrets the files show give none. Before, the audit passed them all.
func TestSettingInvalid(t *testing.T) {
	const canary = "30-CANARY-7f3a"
	dir := t.TempDir()
	f := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(f, []byte(`services:
  n8n:
    image: n8nio/n8n:2.40.0
    entrypoint: ["tini", "--", "/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]
    environment:
      N8N_ENCRYPTION_KEY: vault://secret/n8n/core#encryption_key
      N8N_SECRETS_EXPECT_KEY_FINGERPRNT: 0123456789abcdef
      N8N_SECRETS_TIMEOUT: "`+canary+`"
      N8N_SECRETS_VERIFY_KEY: "yes"
      N8N_SECRETS_LOG_FORMAT: json
      N8N_SECRETS_REFRESH: ${REFRESH}
      N8N_SECRETS_CONCURRENCY: "8"
      VAULT_ADDR: https://vault.example:8200
  other:
    image: redis:7.4
    environment:
      N8N_SECRETS_TIMEOUT: "30"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := run(t, f)
	var got []string
	for _, fd := range rep.Findings {
		if strings.Contains(fd.Message+fd.Hint, canary) {
			t.Errorf("a finding holds the value: %s", fd.Message)
		}
		if fd.Code != CodeSettingInvalid {
			continue
		}
		if fd.Severity != Error {
			t.Errorf("%s: severity %s, want error", fd.Message, fd.Severity)
		}
		got = append(got, strings.SplitN(fd.Message, ":", 2)[0]+"@"+strconv.Itoa(fd.Line))
		if strings.HasPrefix(fd.Message, "N8N_SECRETS_EXPECT_KEY_FINGERPRNT") && !strings.Contains(fd.Hint, "N8N_SECRETS_EXPECT_KEY_FINGERPRINT") {
			t.Errorf("the typo's hint does not name the setting: %q", fd.Hint)
		}
	}
	sort.Strings(got)
	want := []string{"N8N_SECRETS_EXPECT_KEY_FINGERPRNT@7", "N8N_SECRETS_TIMEOUT@8", "N8N_SECRETS_VERIFY_KEY@9"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SETTING_INVALID findings %v, want %v (redis is no n8n container and runs no n8n-secrets that the files show; ${REFRESH} is unknown)", got, want)
	}
}
