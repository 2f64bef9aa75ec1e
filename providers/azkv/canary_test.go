package azkv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/azkvfake"
)

// TestCanaries runs every path, good and failing, with canary values in
// the secrets and a canary client secret, and checks that no value, client
// secret, access token or service-account token reaches an error, a watch
// result, a resolver result's text, or a log line (debug level included).
func TestCanaries(t *testing.T) {
	const (
		valueCanary  = "CANARY-VALUE-5f1d2c3b"
		secretCanary = "CANARY-CLIENT-SECRET-9a8b7c6d"
	)
	isolateEnv(t)
	srv := azkvfake.New(t)
	srv.AddVault(testVault, azkvfake.DefaultTenant)
	srv.AddClientSecret(azkvfake.DefaultTenant, azkvfake.DefaultClientID, secretCanary)
	srv.GrantSecretsUser(azkvfake.DefaultClientID, testVault)
	srv.SetSecret(testVault, "plain", valueCanary)
	srv.SetSecret(testVault, "json", `{"password":"`+valueCanary+`"}`)
	srv.SetSecret(testVault, "disabled", valueCanary)
	srv.SetEnabled(testVault, "disabled", "", false)
	t.Setenv("AZURE_TENANT_ID", azkvfake.DefaultTenant)
	t.Setenv("AZURE_CLIENT_ID", azkvfake.DefaultClientID)
	t.Setenv("AZURE_CLIENT_SECRET", secretCanary)

	var logs bytes.Buffer
	var outputs []string
	check := func(step string) {
		t.Helper()
		all := strings.Join(outputs, "\n") + "\n" + logs.String()
		canaries := append([]string{valueCanary, secretCanary}, srv.IssuedTokens()...)
		for _, c := range canaries {
			if strings.Contains(all, c) {
				t.Fatalf("%s: a canary (%d bytes) reached an output", step, len(c))
			}
		}
	}
	newP := func() *Provider {
		p, err := New(Config{Getenv: os.Getenv, BaseTransport: srv.Transport(),
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	record := func(err error) {
		if err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	p := newP()
	ctx := ctxT(t)

	// Good paths: a fetch, a resolve with a selector, a watch.
	pl, err := p.FetchRef(ctx, mustRef(t, testVault+"/plain", nil))
	record(err)
	if string(pl.Value.Reveal()) != valueCanary {
		t.Fatal("the canary secret did not resolve")
	}
	outputs = append(outputs, fmt.Sprintf("%v %+v %#v", pl, pl, pl))
	res, errs := resolve(t, p, 5*time.Second, "azkv://"+testVault+"/json#password", "azkv://"+testVault+"/disabled", "azkv://"+testVault+"/absent")
	for _, e := range errs {
		record(e)
	}
	outputs = append(outputs, fmt.Sprintf("%v %+v", res, res))
	for _, w := range p.WatchRefs(ctx, []Ref{mustRef(t, testVault+"/plain", nil), mustRef(t, testVault+"/disabled", nil)}) {
		record(w.Err)
	}
	check("good paths")

	// Key Vault refuses the tokens; Entra refuses the secret.
	srv.ExpireTokens()
	srv.RemoveClientSecrets(azkvfake.DefaultClientID)
	_, err = newP().FetchRef(ctx, mustRef(t, testVault+"/plain", nil))
	record(err)
	if inject.CodeOf(err) != inject.CodeAuthFailed {
		t.Fatalf("refused secret: %v", err)
	}
	check("refused client secret")

	// A token response that cannot be decoded, holding the token: MSAL
	// quotes it in its error, azidentity passes that on.
	srv.AddClientSecret(azkvfake.DefaultTenant, azkvfake.DefaultClientID, secretCanary)
	srv.GarbleTokenResponses(1)
	_, err = newP().FetchRef(ctx, mustRef(t, testVault+"/plain", nil))
	record(err)
	if err == nil {
		t.Fatal("a garbled token response passed")
	}
	check("garbled token response")

	// Throttled and failing answers, through the resolver.
	srv.Throttle(1, 1)
	srv.FailNext(azkvfake.TargetToken, 1, http.StatusInternalServerError)
	_, errs = resolve(t, newP(), 5*time.Second, "azkv://"+testVault+"/plain")
	for _, e := range errs {
		record(e)
	}
	check("throttled, then a failing token endpoint")

	// Workload identity with a service-account token that Entra refuses.
	sa := srv.ServiceAccountToken("system:serviceaccount:n8n:n8n", azkvfake.FederatedAudience, time.Hour)
	file := t.TempDir() + "/token"
	if err := os.WriteFile(file, []byte(sa), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_CLIENT_SECRET", "")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	_, err = newP().FetchRef(context.Background(), mustRef(t, testVault+"/plain", nil))
	record(err)
	if inject.CodeOf(err) != inject.CodeAuthFailed {
		t.Fatalf("refused assertion: %v", err)
	}
	all := strings.Join(outputs, "\n") + logs.String()
	if strings.Contains(all, sa[strings.LastIndexByte(sa, '.')+1:]) {
		t.Fatal("the service-account token's signature reached an output")
	}
	check("refused workload identity")
}
