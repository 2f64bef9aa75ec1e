package start

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/internal/environ"
	"github.com/n8n-secrets/n8n-secrets/internal/failure"
	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
)

// TestResolveOnlyStopsOnASignalAfterResolution: a SIGTERM that arrives
// once the key commands' references resolved (the watch records it; the
// fetches are done) still stops the command with 143, as it did before
// package start (fingerprint checked the signal after prepare whatever
// the outcome): it is not swallowed, with the command carrying on and
// exiting 0.
func TestResolveOnlyStopsOnASignalAfterResolution(t *testing.T) {
	const canary = "CANARY-only-key-5d1e0a7c"
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	env := environ.New([]string{"N8N_ENCRYPTION_KEY=file://" + key})
	s, err := settings.FromEnv(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(&logs), nil))
	opts := Options{Settings: s, Env: env, Stores: inject.Stores{file.Store}, Log: log}
	only := Only{Keep: func(name string) bool { return name == "N8N_ENCRYPTION_KEY" }}

	// Without a signal it resolves (the test can tell the two apart).
	r := Begin(time.Minute)
	got, err := r.ResolveOnly(opts, only)
	r.Done()
	if err != nil || got.Get("N8N_ENCRYPTION_KEY") != canary {
		t.Fatalf("without a signal: err %v, key resolved: %v", err, got.Get("N8N_ENCRYPTION_KEY") == canary)
	}

	// A signal the watch recorded after the fetches were done.
	r = Begin(time.Minute)
	defer r.Done()
	r.sigs.record(syscall.SIGTERM)
	_, err = r.ResolveOnly(opts, only)
	if code := failure.Exit(err); code != 143 {
		t.Fatalf("a SIGTERM received during the run: exit %d (err %v), want 143", code, err)
	}
	if f := failure.As(err); f == nil || !f.Logged {
		t.Errorf("the failure is not marked logged: %#v", f)
	}
	if strings.Contains(logs.String()+err.Error(), canary) {
		t.Error("the key's value reached the log or the error")
	}
}
