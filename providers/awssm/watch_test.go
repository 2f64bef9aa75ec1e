package awssm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
)

// versionsOf fetches refs and returns the version ids the fetch returned.
func versionsOf(t *testing.T, p *awssm.Provider, refs []string) []string {
	t.Helper()
	res, errs := resolve(t, p, refs...)
	if len(errs) > 0 {
		t.Fatalf("resolve: %v", errs)
	}
	var versions []string
	for _, r := range res {
		versions = append(versions, r.Version)
	}
	return versions
}

func TestWatchListsVersionsTenNamesPerCall(t *testing.T) {
	s := setup(t)
	var refs []string
	var secrets []awsfake.SecretRef
	for i := range 23 {
		secrets = append(secrets, s.AddSecret(usEast, fmt.Sprintf("n8n/s%02d", i), canary(fmt.Sprint(i))))
	}
	for i, sec := range secrets {
		switch i % 3 {
		case 0:
			refs = append(refs, "awssm://"+sec.Name)
		case 1:
			refs = append(refs, "awssm://"+sec.ARN)
		default:
			refs = append(refs, "awssm://"+sec.PartialARN())
		}
	}
	p := newProvider(t, awssm.Options{})
	versions := versionsOf(t, p, refs)
	refs = append(refs, "awssm://n8n/s00?version-stage=AWSPREVIOUS")
	s.PutVersion(usEast, "n8n/s00", awsfake.StringValue(canary("0b")))
	s.Reset()
	res := p.Watch(context.Background(), keysOf(t, refs...))
	if n := s.Calls(awsfake.OpListSecrets); n != 3 {
		t.Errorf("%d ListSecrets calls for 23 names, want 3 (10 names a call)", n)
	}
	if n := s.Calls(awsfake.OpGetSecretValue) + s.Calls(awsfake.OpBatchGetSecretValue); n != 0 {
		t.Errorf("watching read %d values", n)
	}
	for i := 1; i < 23; i++ {
		if res[i].Err != nil || res[i].Stamp != versions[i] {
			t.Errorf("%s: stamp %q, err %v; want the fetched version %q", refs[i], res[i].Stamp, res[i].Err, versions[i])
		}
	}
	// n8n/s00 has a new version: its stamp moved; the AWSPREVIOUS
	// reference now points at the first one.
	if res[0].Err != nil || res[0].Stamp == versions[0] || res[0].Stamp == "" {
		t.Errorf("new version not seen: %q vs %q (%v)", res[0].Stamp, versions[0], res[0].Err)
	}
	if res[23].Err != nil || res[23].Stamp != secrets[0].VersionID {
		t.Errorf("AWSPREVIOUS: %q, want %q (%v)", res[23].Stamp, secrets[0].VersionID, res[23].Err)
	}
}

func keysOf(t *testing.T, refs ...string) []inject.Reference {
	t.Helper()
	var keys []inject.Reference
	for _, q := range parse(t, refs...) {
		keys = append(keys, q.Ref.FetchKey())
	}
	return keys
}

func TestWatchMissingDeniedPinned(t *testing.T) {
	s := setup(t)
	a := s.AddSecret(usEast, "n8n/a", canary("a"))
	s.AddSecret(usEast, "n8n/gone", canary("g"))
	s.DeleteSecret(usEast, "n8n/gone")
	p := newProvider(t, awssm.Options{})
	res := p.Watch(context.Background(), keysOf(t, "awssm://n8n/a", "awssm://n8n/gone", "awssm://n8n/a?version-id="+a.VersionID))
	if res[0].Err != nil || res[0].Stamp != a.VersionID {
		t.Errorf("n8n/a: %q %v", res[0].Stamp, res[0].Err)
	}
	if !errors.Is(res[1].Err, inject.ErrNotFound) || !errors.Is(res[1].Err, inject.ErrSoftDeleted) {
		t.Errorf("a secret marked for deletion: %v, want ErrNotFound and ErrSoftDeleted (it can be restored)", res[1].Err)
	}
	if res[2].Err != nil || res[2].Stamp != "" {
		t.Errorf("pinned version: %q %v, want no stamp (it cannot change)", res[2].Stamp, res[2].Err)
	}
	s.DenyOperation(awsfake.OpListSecrets)
	res = p.Watch(context.Background(), keysOf(t, "awssm://n8n/a"))
	if !errors.Is(res[0].Err, inject.ErrPermission) {
		t.Errorf("ListSecrets denied: %v, want ErrPermission", res[0].Err)
	}
	noCanary(t, []error{res[0].Err})
}

// TestWatchDescribesWhatListSecretsDoesNotList: another account's secret,
// shared by a resource policy and named by its ARN, never shows in
// ListSecrets: its version is asked with DescribeSecret, which reads no
// value, instead of being reported missing (and read again) at every
// refresh. A secret that exists nowhere is still missing.
func TestWatchDescribesWhatListSecretsDoesNotList(t *testing.T) {
	s := setup(t)
	own := s.AddSecret(usEast, "n8n/own", canary("own"))
	shared := s.AddSharedSecret(usEast, "210987654321", "team/db", canary("shared"))
	p := newProvider(t, awssm.Options{})
	refs := []string{"awssm://n8n/own", "awssm://" + shared.ARN, "awssm://" + shared.PartialARN(),
		"awssm://arn:aws:secretsmanager:us-east-1:210987654321:secret:team/none"}
	s.Reset()
	res := p.Watch(context.Background(), keysOf(t, refs...))
	if res[0].Err != nil || res[0].Stamp != own.VersionID {
		t.Errorf("own: %q %v", res[0].Stamp, res[0].Err)
	}
	for i := 1; i <= 2; i++ {
		if res[i].Err != nil || res[i].Stamp != shared.VersionID {
			t.Errorf("%s: %q %v, want its version from DescribeSecret", refs[i], res[i].Stamp, res[i].Err)
		}
	}
	if !errors.Is(res[3].Err, inject.ErrNotFound) || errors.Is(res[3].Err, inject.ErrSoftDeleted) {
		t.Errorf("a secret that does not exist: %v, want ErrNotFound", res[3].Err)
	}
	missing := res[3].Err
	if n := s.Calls(awsfake.OpGetSecretValue) + s.Calls(awsfake.OpBatchGetSecretValue); n != 0 {
		t.Errorf("watching read %d values", n)
	}
	if n := s.Calls(awsfake.OpDescribeSecret); n != 3 {
		t.Errorf("%d DescribeSecret calls, want one per unlisted secret (3)", n)
	}
	v2 := s.PutVersion(usEast, shared.ARN, awsfake.StringValue(canary("shared2")))
	res = p.Watch(context.Background(), keysOf(t, refs[1]))
	if res[0].Err != nil || res[0].Stamp != v2 {
		t.Errorf("new version of the shared secret: %q %v, want %q", res[0].Stamp, res[0].Err, v2)
	}
	s.DenyOperation(awsfake.OpDescribeSecret)
	res = p.Watch(context.Background(), keysOf(t, refs[1]))
	if !errors.Is(res[0].Err, inject.ErrPermission) || !strings.Contains(res[0].Err.Error(), "DescribeSecret") {
		t.Errorf("DescribeSecret denied: %v, want ErrPermission naming the permission", res[0].Err)
	}
	noCanary(t, []error{res[0].Err, missing})
}
