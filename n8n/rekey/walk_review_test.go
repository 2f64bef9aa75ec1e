package rekey

import (
	"context"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
)

// TestFullAfterRewrapOnlySaysNoDataKeyReplaced: a --rewrap-only rekey from
// A to B, then, the leak found out, "the full rekey" run as the docs say,
// with the same --from and --to. Every row is already under B, so no data
// key is replaced: the active one is still the one A unwrapped, and A with
// an old backup of deployment_key reads every value. It reported "nothing
// to do" as after a full rekey, with no word of it. It must say that this
// run replaced no data key, and what to do (a full rekey to a further key).
func TestFullAfterRewrapOnlySaysNoDataKeyReplaced(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, RewrapOnly: true}); err != nil {
		t.Fatal(err)
	}
	for _, apply := range []bool{false, true} {
		res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: apply})
		if err != nil {
			t.Fatal(err)
		}
		said := false
		for _, n := range res.Notes {
			if strings.Contains(n, "no data key") && strings.Contains(n, "--rewrap-only") {
				said = true
			}
			if strings.Contains(n, "becomes the active one") {
				t.Errorf("apply=%v: a note says a fresh data key becomes active, but none does: %s", apply, n)
			}
		}
		if !said {
			t.Errorf("apply=%v: no note says that no data key was replaced; notes:\n%s", apply, strings.Join(res.Notes, "\n"))
		}
	}
	// A full rekey that does replace the active data key says nothing of
	// the kind.
	g := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	res, err := Run(ctx, g.db, Options{From: n8ntest.Key, To: newKey, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notes {
		if strings.Contains(n, "no data key") {
			t.Errorf("a full rekey that replaced the data key says: %s", n)
		}
	}
}
