package n8nreal

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testCreds are the credentials of the project's n8n test data.
var testCreds = []Credential{
	{ID: "fixtureCred001", Name: "c1", Type: "httpHeaderAuth", Data: map[string]any{"name": "X-API-Key", "value": "n8nreal-api-key-1"}},
	{ID: "fixtureCred002", Name: "c2", Type: "httpBasicAuth", Data: map[string]any{"user": "bob", "password": "n8ntest basic pässword"}},
}

// TestRealN8N drives each installed n8n through what the other tests
// need: import under a key, export decrypted under it, a refused export
// under another key, a start that becomes healthy, a stop with SIGTERM.
func TestRealN8N(t *testing.T) {
	for name, get := range map[string]func(testing.TB) *Install{"1.x": V1, "2.x": V2} {
		t.Run(name, func(t *testing.T) {
			in := get(t)
			const keyA, keyB = "n8nreal-key-A-0123456789abcdef", "n8nreal-key-B-0123456789abcdef"
			node := NewNode(t, in, "N8N_ENCRYPTION_KEY="+keyA)
			if out, err := node.ImportCredentials(testCreds); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got, out, err := node.ExportCredentials()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if len(got) != len(testCreds) {
				t.Fatalf("exported %d credentials, want %d", len(got), len(testCreds))
			}
			for i := range got {
				if got[i].ID != testCreds[i].ID || !reflect.DeepEqual(got[i].Data, testCreds[i].Data) {
					t.Errorf("credential %s: exported data differs from the imported data", testCreds[i].ID)
				}
			}

			// Key B: n8n first refuses its settings file (key A), then,
			// without it, cannot decrypt.
			node.Env = []string{"N8N_ENCRYPTION_KEY=" + keyB}
			if _, out, err := node.ExportCredentials(); err == nil || !strings.Contains(out, "Mismatching encryption keys") {
				t.Errorf("export under key B with the settings file of key A: err %v, want n8n's key mismatch", err)
			}
			if err := os.Remove(filepath.Join(node.DataDir(), "config")); err != nil {
				t.Fatal(err)
			}
			if _, out, err := node.ExportCredentials(); err == nil || !strings.Contains(out, "could not be decrypted") {
				t.Errorf("export under key B: err %v, want n8n's decryption failure", err)
			}

			node.Env = []string{"N8N_ENCRYPTION_KEY=" + keyA}
			if err := os.Remove(filepath.Join(node.DataDir(), "config")); err != nil {
				t.Fatal(err)
			}
			p, err := node.Start()
			if err != nil {
				t.Fatalf("%v\n%s", err, OutputOf(err))
			}
			if p.Healthy.Before(p.Started) {
				t.Errorf("healthy at %v before started at %v", p.Healthy, p.Started)
			}
			if err := p.Stop(); err != nil {
				t.Errorf("%v\n%s", err, p.Output())
			}
			if !p.Exited() {
				t.Error("n8n still runs after Stop")
			}
			// A second start while the first runs on the same folder is
			// no concern of this package; a start that fails is.
			node.Env = []string{"N8N_ENCRYPTION_KEY=" + keyB}
			_, err = node.Start()
			se, ok := IsStartError(err)
			if !ok || se.Code == 0 || !strings.Contains(se.Output, "Mismatching encryption keys") {
				t.Errorf("start under key B with the settings file of key A: %v, want an exit with n8n's key mismatch", err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if _, err := Find(1, dir); err == nil {
		t.Error("Find accepted a directory without .installed")
	}
	bin := filepath.Join(dir, "node_modules", "n8n", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "n8n"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".installed"), []byte("n8n@2.40.7 node@24.22.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := Find(2, dir)
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != "2.40.7" || in.Major() != 2 || in.nodeDir != filepath.Join(dir, "node", "bin") {
		t.Errorf("Find: %+v", in)
	}
	if _, err := Find(1, dir); err == nil {
		t.Error("Find(1) accepted a 2.x install")
	}
	if !versionLess("/c/n8n-1.123.9", "/c/n8n-1.123.81") || versionLess("/c/n8n-2.40.7", "/c/n8n-1.123.81") {
		t.Error("versionLess orders versions as strings")
	}
}
