package examples

import (
	"context"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/vaulttest"
)

// TestRotateKeyRefusesAfterInterruptedRun: rotate-key.sh interrupted after
// it wrote the new key and scaled the nodes to 0 (a Ctrl-C during its
// 10-minute wait for the pods, a lost CI runner). Run again, it took the
// newest version, the never-used key, as the one the database is under,
// wrote yet another, saved 0 as every Deployment's replicas, and when the
// rekey failed (neither key decrypts) made the never-used key the newest
// again, said "nothing was written, the database is still under version
// N" and scaled the nodes to 0. Run again, it must refuse before writing
// anything, and say what to do.
func TestRotateKeyRefusesAfterInterruptedRun(t *testing.T) {
	n8nSecrets(t)
	srv := vaulttest.Start(t)
	srv.MountKV("secret", 2)
	keyA := "k8s-rotate-key-" + strings.Repeat("A", 29)
	r := newRotateRig(t, keyA)
	r.sec.add(srv.RootToken)
	srv.PutKV("secret/n8n/core", map[string]any{"encryption_key": keyA})
	// The interrupted run: a new version nothing is encrypted with, and
	// the main scaled to 0.
	orphan := "k8s-rotate-key-" + strings.Repeat("B", 29)
	r.sec.add(orphan)
	srv.PutKV("secret/n8n/core", map[string]any{"encryption_key": orphan})
	set := r.sandboxSet()
	set["VAULT_ADDR"] = srv.Addr
	r.save(&fakeState{Kind: "kubernetes", ConfigMap: map[string]string{}, Set: set,
		Services: map[string]*fakeService{"n8n": {Replicas: 0, Env: map[string]string{}}}})

	code, out := r.rotate(t.TempDir(), map[string]string{"VAULT_ADDR": srv.Addr, "VAULT_TOKEN": srv.RootToken}, "kubernetes", "n8n")
	if code == 0 || !strings.Contains(out, "0 replicas") || !strings.Contains(out, "verify-key") {
		t.Errorf("rotate-key.sh after an interrupted run: exit %d, want a refusal naming the 0 replicas and what to check\n%s", code, r.sec.show(out))
	}
	s, err := srv.Client().KVv2("secret").Get(context.Background(), "n8n/core")
	if err != nil {
		t.Fatal(err)
	}
	if s.VersionMetadata.Version != 2 {
		t.Errorf("the refused run wrote to Vault: the newest version is %d, want 2 (the interrupted run's)", s.VersionMetadata.Version)
	}
	for _, c := range r.load().Calls {
		if strings.Contains(c, "scale") || strings.Contains(c, "apply") {
			t.Errorf("the refused run changed the cluster: %s", c)
		}
	}
}
