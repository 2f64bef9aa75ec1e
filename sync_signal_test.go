package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// runMainWithHooks is the binary's run in this test process, with the test
// hook E2E_RUN_MAIN names set: a process of its own (TestMain dispatches
// to it), so that what a signal does to it can be seen from outside.
// E2E_ARGS holds the arguments as a JSON list.
func runMainWithHooks() int {
	switch os.Getenv("E2E_RUN_MAIN") {
	case "sigterm-before-sync":
		// SIGTERM reaches the process right before the settings file is
		// rewritten: without a handler it dies there, halfway.
		start.SyncTestHook = func() {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(100 * time.Millisecond)
		}
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("E2E_ARGS")), &args); err != nil {
		return 99
	}
	return run(args, os.Environ())
}

// TestSyncSurvivesSignalWithoutReferences: with a literal key (no
// reference, so nothing else installs signal handlers) and
// N8N_SECRETS_N8N_SETTINGS=sync, a SIGTERM during the rewrite of n8n's
// settings file neither kills the process halfway (which would leave a
// temporary file holding the key) nor lets the command start: the rewrite
// runs to its end, then the start stops with 143. The key is proved
// against the real n8n's database first, as sync requires.
func TestSyncSurvivesSignalWithoutReferences(t *testing.T) {
	// Sync replaces a key only once it has decrypted n8n's database: the
	// real n8n's SQLite fixture proves the fixture's key.
	home, _ := n8ntest.CopySQLite(t, n8ntest.SQLite1x)
	folder := filepath.Join(home, ".n8n")
	if err := os.WriteFile(filepath.Join(folder, "config"), []byte(`{"encryptionKey":"an-older-key-for-this-test"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := n8ntest.Key
	out := filepath.Join(t.TempDir(), "child.json")
	args, _ := json.Marshal([]string{"--", self(t)})
	cmd := exec.Command(self(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "E2E_RUN_MAIN=sigterm-before-sync", "E2E_ARGS=" + string(args),
		"E2E_CHILD_OUT=" + out, "N8N_ENCRYPTION_KEY=" + key, "N8N_SECRETS_N8N=on", "N8N_SECRETS_N8N_SETTINGS=sync",
		"N8N_SECRETS_VERIFY_KEY=on", "N8N_SECRETS_LOG_FORMAT=json", "N8N_BLOCK_ENV_ACCESS_IN_NODE=true",
		`NODES_EXCLUDE=["n8n-nodes-base.executeCommand"]`}
	var se strings.Builder
	cmd.Stderr = &se
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("the process died of %v during the settings rewrite: no handler was installed\n%s", ws.Signal(), se.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Fatalf("exit %d (%v), want 143: the start must stop after the rewrite\n%s", code, err, se.String())
	}
	if strings.Contains(se.String(), key) {
		t.Error("the log holds the key")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the command was started after a SIGTERM")
	}
	entries, _ := os.ReadDir(folder)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".config.n8n-secrets-") {
			t.Errorf("a temporary file of the rewrite was left behind: %s", e.Name())
		}
	}
	if !strings.Contains(se.String(), `"code":"N8N_SETTINGS_SYNCED"`) || !strings.Contains(se.String(), `"code":"NOT_STARTING"`) {
		t.Errorf("want the rewrite to finish, then NOT_STARTING:\n%s", se.String())
	}
}
