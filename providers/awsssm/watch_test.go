package awsssm_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

var bg = context.Background()

func mustRefs(t *testing.T, refs ...string) []awsssm.Ref {
	t.Helper()
	var out []awsssm.Ref
	for _, req := range parse(t, refs...) {
		out = append(out, req.Ref.Loc.(awsssm.Ref))
	}
	return out
}

// TestWatchSeesNewVersionWithoutDecrypting: the stamp is the version a
// read reports; a new version, a moved label change it; nothing is
// decrypted to tell.
func TestWatchSeesNewVersionWithoutDecrypting(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	ps.Put(usEast, "/n8n/key", awsfake.SecureString, canary("k1"))
	ps.Put(usEast, "/n8n/db", awsfake.SecureString, canary("db1"))
	ps.Put(usEast, "/n8n/db", awsfake.SecureString, canary("db2"))
	ps.Label(usEast, "/n8n/db", 1, "stable")
	s.AddSecret(usEast, "smtp", canary("smtp"))
	p := newProvider(t, awsssm.Config{})
	refs := mustRefs(t, "awsssm:///n8n/key", "awsssm:///n8n/db?label=stable", "awsssm:///n8n/db?version=2",
		"awsssm:///aws/reference/secretsmanager/smtp", "awsssm://n8n/key")

	read := p.FetchRefs(bg, refs)
	decrypted := ps.Decryptions()
	s.Reset()
	watched := p.WatchRefs(bg, refs)
	for i, w := range watched {
		if w.Err != nil {
			t.Fatalf("%s: %s", refs[i].Name, safe(w.Err))
		}
		if refs[i].IsSecretsManager() {
			if w.Stamp != "" {
				t.Errorf("a Secrets Manager reference cannot be watched without decryption: stamp %q", w.Stamp)
			}
			continue
		}
		if w.Stamp != read[i].Payload.Version {
			t.Errorf("%s: stamp %q, but a read reports version %q", refs[i].String(), w.Stamp, read[i].Payload.Version)
		}
	}
	if s.Calls(awsfake.OpGetParameters) != 1 || ps.Decryptions() != decrypted {
		t.Errorf("%d calls, %d decryptions: want one call and none", s.Calls(awsfake.OpGetParameters), ps.Decryptions()-decrypted)
	}
	if log := s.Log(); len(log) != 1 || slices.Contains(log[0].Names, "/aws/reference/secretsmanager/smtp") {
		t.Errorf("the watch asked for %v", log)
	}

	// A new version (as `aws ssm put-parameter --overwrite` makes), and the
	// label moved to it.
	ps.Put(usEast, "/n8n/key", awsfake.SecureString, canary("k2"))
	ps.Put(usEast, "/n8n/db", awsfake.SecureString, canary("db3"))
	ps.Label(usEast, "/n8n/db", 3, "stable")
	now := p.WatchRefs(bg, refs)
	for i, want := range []string{"2", "3", "2", "", "2"} {
		if now[i].Err != nil || now[i].Stamp != want {
			t.Errorf("%s: stamp %q (%s), want %q", refs[i].String(), now[i].Stamp, safe(now[i].Err), want)
		}
	}
	if ps.Decryptions() != decrypted {
		t.Errorf("the watch decrypted %d values", ps.Decryptions()-decrypted)
	}
	// And a read agrees.
	again := p.FetchRefs(bg, refs[:1])
	if again[0].Payload.Version != now[0].Stamp || string(again[0].Payload.Value.Reveal()) != canary("k2") {
		t.Error("the new version's read disagrees with the watch")
	}
}

func TestWatchManyMissingDenied(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	var refs []string
	for i := range 25 {
		name := fmt.Sprintf("/w/p%02d", i)
		ps.Put(usEast, name, awsfake.String, canary(name))
		refs = append(refs, "awsssm://"+name)
	}
	p := newProvider(t, awsssm.Config{})
	rs := mustRefs(t, refs...)
	for _, w := range p.WatchRefs(bg, rs) {
		if w.Err != nil || w.Stamp != "1" {
			t.Fatalf("stamp %q, %s", w.Stamp, safe(w.Err))
		}
	}
	if n := s.Calls(awsfake.OpGetParameters); n != 3 {
		t.Errorf("25 parameters watched in %d calls, want 3", n)
	}

	ps.Delete(usEast, "/w/p03")
	ps.Deny(usEast, "/w/p04")
	s.Reset()
	res := p.WatchRefs(bg, rs)
	if code := inject.CodeOf(res[3].Err); code != inject.CodeSecretNotFound {
		t.Errorf("deleted: %s", code)
	}
	if code := inject.CodeOf(res[4].Err); code != inject.CodePermissionDenied {
		t.Errorf("denied: %s", code)
	}
	for i, w := range res {
		if i != 3 && i != 4 && (w.Err != nil || w.Stamp != "1") {
			t.Errorf("%s: %q, %s", rs[i].Name, w.Stamp, safe(w.Err))
		}
	}
	// The batch holding the denied one was split: 3 + 10.
	if n := s.Calls(awsfake.OpGetParameters); n != 13 {
		t.Errorf("%d calls, want 13", n)
	}

	ps.ClearFaults()
	ps.ThrottleNext(100)
	for _, w := range p.WatchRefs(bg, rs[:2]) {
		if inject.CodeOf(w.Err) != inject.CodeProviderUnavailable {
			t.Errorf("throttled: %s", safe(w.Err))
		}
	}
}

// TestWatchCallsMeasured measures the two ways Parameter Store can tell
// versions without decrypting, through the SDK: GetParameters without
// decryption (what WatchRefs does: 10 names a call) and DescribeParameters
// with a Name filter (50 names a call, MaxResults 50).
func TestWatchCallsMeasured(t *testing.T) {
	s := setup(t)
	ps := s.ParameterStore()
	c := s.SSMClient(usEast)
	for _, n := range []int{25, 120} {
		var names []string
		for i := range n {
			name := fmt.Sprintf("/m%d/p%03d", n, i)
			ps.Put(usEast, name, awsfake.SecureString, canary(name))
			names = append(names, name)
		}
		s.Reset()
		for chunk := range slices.Chunk(names, 10) {
			if _, err := c.GetParameters(bg, &ssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(false)}); err != nil {
				t.Fatal(err)
			}
		}
		get := s.Invocations(awsfake.OpGetParameters)
		seen := 0
		for chunk := range slices.Chunk(names, 50) {
			pg := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{MaxResults: aws.Int32(50),
				ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: chunk}}})
			for pg.HasMorePages() {
				out, err := pg.NextPage(bg)
				if err != nil {
					t.Fatal(err)
				}
				seen += len(out.Parameters)
			}
		}
		// Calls the client made: a call the SDK retried (a loaded machine,
		// also after a 200 whose answer came too late) counts once, by its
		// invocation id; every request is listed.
		describe := s.Invocations(awsfake.OpDescribeParameters)
		var calls []string
		for _, c := range s.Log() {
			if c.Op == awsfake.OpDescribeParameters {
				calls = append(calls, fmt.Sprintf("%d %s %s", c.Status, c.ErrorCode, c.Invocation))
			}
		}
		t.Logf("%d parameters: GetParameters %d calls, DescribeParameters %d calls (all: %v)", n, get, describe, calls)
		if want := (n + 9) / 10; get != want {
			t.Errorf("%d parameters: GetParameters %d calls, want %d", n, get, want)
		}
		if want := (n + 49) / 50; describe != want || seen != n {
			t.Errorf("%d parameters: DescribeParameters %d calls for %d, want %d (all: %v)", n, describe, seen, want, calls)
		}
	}
}
