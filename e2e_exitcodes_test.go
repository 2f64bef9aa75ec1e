package main

// TestExitCodeTable: the table of exit codes (exitTable, from which the
// README's is generated), row by row, against
// the real binary: every row is reached by at least one case, with one of
// the codes the row names in the log, and every case's exit is a row.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exitRows returns exitTable (from which the README's table of exit codes
// is generated): exit → the codes its row names.
func exitRows(t *testing.T) map[int][]string {
	t.Helper()
	rows := map[int][]string{}
	for _, e := range exitTable {
		for _, c := range exitCodes(e) {
			rows[e.Code] = append(rows[e.Code], c.Name())
		}
	}
	if len(rows) < 9 {
		t.Fatalf("%d rows in exitTable: is the table broken?", len(rows))
	}
	return rows
}

// loopbackVault answers every read with status: a Vault that refuses.
func loopbackVault(t *testing.T, status int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestExitCodeTable(t *testing.T) {
	rows := exitRows(t)
	type exitCase struct {
		name string
		env  []string
		args []string // nil: -- <self>
		exit int
		code string // a code of the row, in the log
		sig  syscall.Signal
	}
	cases := []exitCase{
		{"bad setting", []string{"N8N_SECRETS_TIMEOUT=soon"}, nil, 64, "USAGE", 0},
		{"provider not configured", []string{"K=vault://secret/x"}, nil, 64, "PROVIDER_NOT_CONFIGURED", 0},
		{"http off loopback", []string{"K=vault://secret/x", "VAULT_ADDR=http://vault.invalid:8200", "VAULT_TOKEN=t"}, nil, 64, "PROVIDER_NOT_CONFIGURED", 0},
		{"token ending in a newline", []string{"K=vault://secret/x", "VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN=t\n"}, nil, 64, "PROVIDER_NOT_CONFIGURED", 0},
		{"bad reference", []string{"K=vault:x"}, nil, 65, "BAD_REFERENCE", 0},
		{"typo of a scheme", []string{"K=vualt://secret/x"}, nil, 65, "BAD_REFERENCE", 0},
		{"missing secret", []string{"K=file:nope"}, nil, 65, "SECRET_NOT_FOUND", 0},
		{"missing key", []string{"K=file:json#nope"}, nil, 65, "KEY_NOT_FOUND", 0},
		{"bad data", []string{"K=file:s#k"}, nil, 65, "BAD_DATA", 0},
		{"too large", []string{"K=file:big"}, nil, 65, "VALUE_TOO_LARGE", 0},
		{"NAME and NAME_FILE", []string{"K=x", "K_FILE=/run/secrets/k"}, nil, 65, "VARIABLE_CONFLICT", 0},
		{"unreachable", []string{"K=vault://secret/x", "VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN=t", "N8N_SECRETS_TIMEOUT=1s"}, nil, 69, "PROVIDER_UNAVAILABLE", 0},
		{"permission denied", []string{"K=vault://secret/x", "VAULT_ADDR=" + loopbackVault(t, 403), "VAULT_TOKEN=t"}, nil, 77, "PERMISSION_DENIED", 0},
		{"guard", []string{"N8N_ENCRYPTION_KEY=/run/secrets/k", "N8N_SECRETS_N8N=on"}, nil, 78, "N8N_KEY_IS_PATH", 0},
		{"not executable", []string{"K=file:nope"}, []string{"--", "@notexec"}, 126, "COMMAND_NOT_EXECUTABLE", 0},
		{"not found", []string{"K=file:nope"}, []string{"--", "no-such-command-n8n-secrets"}, 127, "COMMAND_NOT_FOUND", 0},
		// The command's file is a FIFO: reading its first bytes blocks, as
		// a hung mount would. A lookup that timed out is not "not found".
		{"command lookup timed out", []string{"K=file:nope", "N8N_SECRETS_TIMEOUT=500ms"}, []string{"--", "@fifocmd"}, 69, "COMMAND_LOOKUP_TIMEOUT", 0},
		{"install refused", nil, []string{"install", "@notexec"}, 73, "INSTALL_REFUSED", 0},
		{"SIGINT", []string{"K=file:fifo"}, nil, 130, "CANCELED", syscall.SIGINT},
		{"SIGTERM", []string{"K=file:fifo"}, nil, 143, "CANCELED", syscall.SIGTERM},
	}
	reached := map[int]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			codes, ok := rows[tc.exit]
			if !ok {
				t.Fatalf("exit %d is not a row of the README's table", tc.exit)
			}
			if !slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(tc.code, c) }) {
				t.Fatalf("the README's row %d does not name %s", tc.exit, tc.code)
			}
			e := newE2E(t)
			e.plant("s", e.canary("s"))
			e.plant("json", `{"a":"`+e.canary("j")+`"}`)
			e.plant("big", strings.Repeat("b", 200<<10))
			notexec := e.plant("notexec", "#!/bin/sh\n")
			if err := syscall.Mkfifo(filepath.Join(e.dir, "fifo"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := tc.args
			if args == nil {
				args = []string{"--", self(t)}
			}
			fifocmd := filepath.Join(e.dir, "fifocmd")
			if err := syscall.Mkfifo(fifocmd, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(fifocmd, 0o755)
			args = slices.Clone(args)
			for i, a := range args {
				switch a {
				case "@notexec":
					args[i] = notexec
				case "@fifocmd":
					args[i] = fifocmd
				}
			}
			env := append([]string{"N8N_SECRETS_N8N=off"}, tc.env...)
			var r result
			if tc.sig != 0 {
				p := e.start(env, args...)
				// The signal is sent once the start is reading the FIFO
				// (its handlers are installed by then): opening the FIFO's
				// other end without blocking succeeds only while a reader
				// has it open. The end stays open, so the read waits.
				w := openFIFOWriter(t, filepath.Join(e.dir, "fifo"), 30*time.Second)
				defer w.Close()
				if err := p.cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
				r = p.wait(10 * time.Second)
			} else {
				r = e.run(dedupeEnv(env), args...)
			}
			if r.code != tc.exit || r.child != nil {
				t.Fatalf("exit %d (child ran: %v), want %d\n%s", r.code, r.child != nil, tc.exit, r.stderr)
			}
			if !strings.Contains(r.stderr, `"code":"`+tc.code) {
				t.Errorf("the log lacks %s:\n%s", tc.code, r.stderr)
			}
			reached[tc.exit] = true
		})
	}
	for n := range rows {
		if !reached[n] {
			t.Errorf("no case reaches the README's row %d", n)
		}
	}
}
