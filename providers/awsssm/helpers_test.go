package awsssm_test

// Tests against internal/testenv/awsfake, whose Parameter Store side speaks the
// SDK's wire protocol (awsJson1_1, SigV4 for the service ssm) on loopback:
// no AWS endpoint can be reached here. Every test isolates the environment
// (awsfake.IsolateEnv) so that nothing on the machine (keys, profiles,
// IMDS) takes part.
//
// The tests reach the core's resolver (its retries, deadline and
// selectors) through the store's declaration: its parser (testStores) and
// its adapter (Adapt, export_test.go).

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
)

const (
	usEast = "us-east-1"
	euWest = "eu-west-1"

	canaryPrefix = "CANARY-awsssm-"
)

func canary(label string) string { return canaryPrefix + label }

// setup starts the fake and points the SDK's default configuration at it:
// region us-east-1, the fake's endpoint for Systems Manager, its keys.
func setup(t testing.TB) *awsfake.Server {
	t.Helper()
	s := awsfake.New(t)
	s.SetenvSSM(t, usEast)
	isolateMore(t)
	return s
}

// isolateMore clears what awsfake.IsolateEnv leaves: a CA bundle of the
// machine's.
func isolateMore(t testing.TB) {
	t.Setenv("AWS_CA_BUNDLE", "")
}

func newProvider(t testing.TB, c awsssm.Config) *awsssm.Provider {
	t.Helper()
	p, err := awsssm.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// testStores are the core's stores with this one alone.
var testStores = inject.Stores{awsssm.Store}

// parse reads "awsssm://<path>[?<options>][#<selector>]" with the common
// grammar, and checks the store's part with ParseRef.
func parse(t testing.TB, refs ...string) []inject.Request {
	t.Helper()
	var reqs []inject.Request
	for i, s := range refs {
		ref, err := testStores.Parse(s)
		if err != nil {
			t.Fatalf("reference #%d: %v", i, err)
		}
		reqs = append(reqs, inject.Request{Var: fmt.Sprintf("V%d", i), Ref: ref})
	}
	return reqs
}

// resolveIn resolves refs through the core's resolver, with its retries,
// under timeout, and checks that no error holds a secret value.
func resolveIn(t testing.TB, timeout time.Duration, p *awsssm.Provider, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := &inject.Resolver{Providers: map[string]inject.Provider{awsssm.Scheme: awsssm.Adapt(p)},
		Backoff: inject.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}}
	res, errs := r.Resolve(ctx, parse(t, refs...))
	noCanary(t, errs)
	return res, errs
}

func resolve(t testing.TB, p *awsssm.Provider, refs ...string) ([]inject.Result, []error) {
	t.Helper()
	return resolveIn(t, 20*time.Second, p, refs...)
}

func value(r inject.Result) string { return string(r.Value.Reveal()) }

// noCanary fails if an error's text holds a secret value; it names the
// error's position, never its text.
func noCanary(t testing.TB, errs []error) {
	t.Helper()
	for i, err := range errs {
		if strings.Contains(err.Error(), canaryPrefix) {
			t.Errorf("error #%d holds a secret value", i)
		}
	}
}

// safe prints v for a failure message, unless its text holds a secret
// value: a test failure message is output too.
func safe(v any) string {
	text := fmt.Sprint(v)
	if strings.Contains(text, canaryPrefix) {
		return "<withheld: the text holds a secret value>"
	}
	return text
}

// wantValues fails unless every result holds the value want[i]; it prints
// lengths, never values.
func wantValues(t testing.TB, res []inject.Result, errs []error, want ...string) {
	t.Helper()
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %s", safe(errs))
	}
	for i, w := range want {
		if got := value(res[i]); got != w {
			t.Errorf("%s: wrong value (%d bytes, want %d)", res[i].Ref.Path(), len(got), len(w))
		}
	}
}

// wantCode fails unless each result failed with code and its error holds
// every one of parts.
func wantCode(t testing.TB, res []inject.Result, code inject.Code, parts ...string) {
	t.Helper()
	for _, r := range res {
		if r.Err == nil {
			t.Errorf("%s: resolved, want %s", r.Ref.Path(), code)
			continue
		}
		if r.Err.Code != code {
			t.Errorf("%s: %s (%s), want %s", r.Ref.Path(), r.Err.Code, safe(r.Err), code)
		}
		for _, p := range parts {
			if !strings.Contains(r.Err.Error(), p) {
				t.Errorf("%s: error %q does not say %q", r.Ref.Path(), safe(r.Err), p)
			}
		}
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func debugLogger(b *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
