package azkv

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

// TestWatchSeesNewVersionWithoutReading: the stamp is the version id that
// FetchRef reports; a new version changes it; no Get Secret (no value) is
// sent to find out.
func TestWatchSeesNewVersionWithoutReading(t *testing.T) {
	f := newFixture(t)
	f.srv.SetSecret(testVault, "db", "one")
	ref := mustRef(t, testVault+"/db", nil)
	pl, err := f.p.FetchRef(ctxT(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	gets := f.srv.CountOp("GetSecret")

	res := f.p.WatchRefs(ctxT(t), []Ref{ref})
	if res[0].Err != nil || res[0].Stamp != pl.Version {
		t.Fatalf("watch: stamp %q, error %v; want the fetched version %q", res[0].Stamp, res[0].Err, pl.Version)
	}
	f.srv.AdvanceClock(time.Minute)
	v2 := f.srv.SetSecret(testVault, "db", "two")
	res = f.p.WatchRefs(ctxT(t), []Ref{ref})
	if res[0].Err != nil || res[0].Stamp != v2 {
		t.Fatalf("after a new version: stamp %q, error %v; want %q", res[0].Stamp, res[0].Err, v2)
	}
	if n := f.srv.CountOp("GetSecret"); n != gets {
		t.Fatalf("watching sent %d Get Secret requests (values read)", n-gets)
	}
	pl, err = f.p.FetchRef(ctxT(t), ref)
	if err != nil || pl.Version != v2 {
		t.Fatalf("fetch after the change: version %q, %v; want %q", pl.Version, err, v2)
	}
}

// TestWatchPagesAndCost: a secret of 30 versions takes two pages (25 + 5):
// ceil(V/25) requests a round; a pinned reference takes none.
func TestWatchPagesAndCost(t *testing.T) {
	f := newFixture(t)
	var last string
	for i := range 30 {
		f.srv.AdvanceClock(time.Hour)
		last = f.srv.SetSecret(testVault, "rotated", fmt.Sprint(i))
	}
	f.srv.SetSecret(testVault, "small", "x")
	pinned := f.srv.SetSecret(testVault, "pinned", "x")
	refs := []Ref{mustRef(t, testVault+"/rotated", nil), mustRef(t, testVault+"/small", nil), mustRef(t, testVault+"/pinned", map[string]string{"version": pinned})}
	f.p.WatchRefs(ctxT(t), refs[1:2]) // prime the client
	f.srv.ResetCalls()
	res := f.p.WatchRefs(ctxT(t), refs)
	perSecret := map[string]int{}
	for _, c := range f.srv.Calls() {
		if c.Op != "GetSecretVersions" {
			t.Errorf("watch sent %s", c.Op)
		}
		perSecret[c.Path]++
	}
	if perSecret["/secrets/rotated/versions"] != 2 || perSecret["/secrets/small/versions"] != 1 || len(perSecret) != 2 {
		t.Fatalf("listing requests per secret: %v; want 2 for 30 versions, 1 for one, none for the pinned reference", perSecret)
	}
	if res[2].Stamp != pinned || res[2].Err != nil {
		t.Errorf("pinned: %+v", res[2])
	}
	if res[0].Err != nil || res[0].Stamp != last {
		t.Errorf("rotated: %+v, want the last version %s", res[0], last)
	}
}

// TestWatchTiedVersions: two versions created within one second cannot be
// ordered by their times; the watcher then asks Key Vault which it serves
// (one Get Secret) rather than give up watching.
func TestWatchTiedVersions(t *testing.T) {
	f := newFixture(t)
	f.srv.SetSecret(testVault, "twice", "a")
	v2 := f.srv.SetSecret(testVault, "twice", "b") // the same second
	ref := mustRef(t, testVault+"/twice", nil)
	res := f.p.WatchRefs(ctxT(t), []Ref{ref})
	if res[0].Err != nil || res[0].Stamp != v2 {
		t.Fatalf("tied: %+v, want %s", res[0], v2)
	}
	pl, err := f.p.FetchRef(ctxT(t), ref)
	if err != nil || pl.Version != res[0].Stamp {
		t.Fatalf("fetch: version %q, %v; want the watched stamp", pl.Version, err)
	}
}

func TestWatchFailures(t *testing.T) {
	f := newFixture(t)
	f.srv.SetSecret(testVault, "disabled", "x")
	f.srv.SetEnabled(testVault, "disabled", "", false)
	f.srv.AddVault("get-only", azkvfake.DefaultTenant)
	f.srv.SetSecret("get-only", "key", "x")
	// Read access without readMetadata: a role with getSecret alone.
	f.srv.Grant(azkvfake.DefaultClientID, "get-only", "key", azkvfake.ActionGetSecret)

	refs := []Ref{mustRef(t, testVault+"/gone", nil), mustRef(t, testVault+"/disabled", nil), mustRef(t, "get-only/key", nil)}
	res := f.p.WatchRefs(ctxT(t), refs)
	if !errors.Is(res[0].Err, inject.ErrNotFound) {
		t.Errorf("missing secret: %v, want ErrNotFound", res[0].Err)
	}
	if !errors.Is(res[1].Err, inject.ErrNotFound) {
		t.Errorf("disabled latest version: %v, want ErrNotFound", res[1].Err)
	}
	if !errors.Is(res[2].Err, inject.ErrPermission) {
		t.Errorf("no readMetadata: %v, want ErrPermission (the caller then fetches)", res[2].Err)
	}
	// The fetch needs less: it still works.
	if _, err := f.p.FetchRef(ctxT(t), refs[2]); err != nil {
		t.Errorf("fetch with getSecret alone: %v", err)
	}
	for _, r := range res {
		t.Log(r.Err)
	}
}
