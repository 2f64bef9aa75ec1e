package gcpsm

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/gcpsmfake"
)

const (
	project = "n8n-prod-4711"
	number  = "318552740113"
	saEmail = "n8n-secrets@n8n-prod-4711.iam.gserviceaccount.com"
	saPrin  = "serviceAccount:" + saEmail
)

// world is a fake Secret Manager with a service account key on disk.
type world struct {
	fake    *gcpsmfake.Server
	keyFile string
	keyJSON []byte
	env     map[string]string
	logs    *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newWorld(t testing.TB) *world {
	t.Helper()
	f := gcpsmfake.New(t)
	f.AddProject(project, number)
	w := &world{fake: f, logs: &lockedBuffer{}}
	w.keyJSON = f.ServiceAccountKey(saEmail, project)
	w.keyFile = filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(w.keyFile, w.keyJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{
		"GOOGLE_APPLICATION_CREDENTIALS": w.keyFile,
		EndpointVar:                      f.APIURL(),
		"HOME":                           t.TempDir(),
	}
	return w
}

func (w *world) provider(t testing.TB) *Provider {
	t.Helper()
	p, err := New(Config{Getenv: func(k string) string { return w.env[k] }, Logger: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func mustRef(t testing.TB, path string) Ref {
	t.Helper()
	r, err := ParseRef(path, nil)
	if err != nil {
		t.Fatalf("ParseRef: %v", err)
	}
	return r
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// refOf parses a gcpsm:// path that a test knows to be good.
func refOf(path string) Ref {
	r, err := ParseRef(path, nil)
	if err != nil {
		panic(err)
	}
	return r
}
