package gcpsm

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListVariables: docs/stores.md names every variable this store
// reads or strips, and the grammar.
func TestDocsListVariables(t *testing.T) {
	b, err := os.ReadFile("../../docs/stores.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Google Secret Manager")
	if i < 0 {
		t.Fatal(`docs/stores.md has no "## Google Secret Manager" section`)
	}
	doc = doc[i:]
	if j := strings.Index(doc[3:], "\n## "); j >= 0 {
		doc = doc[:j+3]
	}
	names := append(append(append([]string{EndpointVar, "GCE_METADATA_HOST", "CLOUDSDK_CONFIG"}, CredentialVars...), ProjectVars...), OwnedVars...)
	for _, v := range names {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("docs/stores.md does not name %s", v)
		}
	}
	for _, s := range []string{"gcpsm://projects/<project>/secrets/<secret>[/versions/<version>][#selector]", "gcpsm://<secret>[/versions/<version>][#selector]",
		"roles/secretmanager.secretAccessor", "roles/secretmanager.viewer", "dataCrc32c"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/stores.md does not show %s", s)
		}
	}
}
