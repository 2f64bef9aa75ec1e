package main

// The read-only commands (verify-key, a rekey's dry run, the check before
// n8n starts) on SQLite databases in WAL and rollback-journal mode, in the
// states n8n leaves them: held by a running n8n (a WAL with commits and its
// index), stopped without a checkpoint (a crash, a snapshot), closed
// cleanly. Under strace, nothing may create, write, truncate, rename or
// remove a file beside the database, and the -shm may only be opened
// read-only (a shared writable mapping would write without a system call).
// The same commands work on a read-only copy, run as an unprivileged user.

import (
	"bufio"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
)

// needTool returns the path of a command the test needs, or skips the test
// (fails it under CI=true, where .ci/run installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s is needed (apt-get install %s); under CI=true a missing tool is a failure, not a skip", name, name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// sharedDir is a temporary directory that other users may enter (the
// parents of t.TempDir are private), removed at cleanup.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "n8n-secrets-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// holdWAL has the sqlite3 command hold path open in WAL mode, with a
// commit in the WAL not yet checkpointed, as a running n8n does; the
// returned function stops it (its connection closes cleanly).
func holdWAL(t *testing.T, path string) (stop func()) {
	t.Helper()
	cmd := exec.Command(needTool(t, "sqlite3"), path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, `PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; UPDATE "user" SET "updatedAt" = "updatedAt"; SELECT 'ready';`)
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("sqlite3 holding the database: %v", err)
		}
		if strings.TrimSpace(line) == "ready" {
			break
		}
	}
	var once bool
	stop = func() {
		if !once {
			once = true
			stdin.Close()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// toWAL switches a database file to WAL mode and closes it cleanly: no
// -wal, no -shm left.
func toWAL(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
		t.Fatal(err)
	}
}

// dirState is what a folder holds: each file's name, size, mode, mtime
// and content hash.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, _ = io.Copy(h, f)
		f.Close()
		out = append(out, fmt.Sprintf("%s %d %v %d %x", e.Name(), fi.Size(), fi.Mode(), fi.ModTime().UnixNano(), h.Sum(nil)))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// straceCalls are the system calls a write beside the database would use.
const straceCalls = "open,openat,creat,write,pwrite64,writev,pwritev,pwritev2,ftruncate,truncate,fallocate," +
	"unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,link,linkat,symlink,symlinkat,chmod,fchmod,fchmodat,fchown,fchownat,utimensat"

var (
	straceLine = regexp.MustCompile(`^(?:\d+ +)?([a-z0-9_]+)\((.*)\) += (-?\d+|\?)`)
	fdPath     = regexp.MustCompile(`^-?\d+<([^>]*)>`)
	quoted     = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// writesBeside returns the system calls in an strace log (-f -y) that
// write beside the database, in dir: a file opened for writing that did
// not exist before (existed lists the names that did), any open with
// O_TRUNC, an -shm opened other than read-only, a write of any kind to a
// file there, and any creation, removal or change of a name there.
func writesBeside(log, dir string, existed map[string]bool) []string {
	var bad []string
	in := func(p string) bool { return filepath.Dir(p) == dir }
	for _, line := range strings.Split(log, "\n") {
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		call, args := m[1], m[2]
		paths := quoted.FindAllStringSubmatch(args, -1)
		switch call {
		case "open", "openat", "creat":
			if len(paths) == 0 || !in(paths[0][1]) {
				continue
			}
			p := paths[0][1]
			writing := call == "creat" || strings.Contains(args, "O_RDWR") || strings.Contains(args, "O_WRONLY")
			switch {
			case strings.Contains(args, "O_TRUNC"):
				bad = append(bad, line)
			case strings.HasSuffix(p, "-shm") && writing:
				bad = append(bad, line)
			case writing && !existed[filepath.Base(p)]:
				bad = append(bad, line)
			case strings.Contains(args, "O_CREAT") && !existed[filepath.Base(p)]:
				bad = append(bad, line)
			}
		case "fchown":
			// SQLite running as root gives the -wal and -shm it opens the
			// database file's owner (unixOpen, unixOpenSharedMemory), even
			// when they have it already: that changes nothing but the
			// inode's ctime. Giving them another owner is a write.
			if fm := fdPath.FindStringSubmatch(args); fm != nil && in(fm[1]) && !sameOwner(fm[1], args) {
				bad = append(bad, line)
			}
		case "write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "fallocate", "fchmod":
			if fm := fdPath.FindStringSubmatch(args); fm != nil && in(fm[1]) {
				bad = append(bad, line)
			}
		default:
			for _, p := range paths {
				if in(p[1]) || p[1] == dir {
					bad = append(bad, line)
					break
				}
			}
		}
	}
	return bad
}

// sameOwner reports whether the uid and gid an fchown's arguments give
// are path's owner already.
func sameOwner(path, args string) bool {
	f := strings.Split(args, ", ")
	if len(f) != 3 {
		return false
	}
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return false
	}
	return f[1] == strconv.Itoa(int(st.Uid)) && f[2] == strconv.Itoa(int(st.Gid))
}

// TestReadOnlyCommandsWriteNothing: verify-key, rekey's dry run and the
// check before start, under strace, on a WAL database held by a running
// process, left after a crash, closed cleanly, and on a rollback-journal
// database: each succeeds and writes nothing beside the database.
func TestReadOnlyCommandsWriteNothing(t *testing.T) {
	strace := needTool(t, "strace")
	cmd := fakeN8N(t, "n8n")
	commands := []struct {
		name string
		args []string
		ok   func(r result) bool
	}{
		{"verify-key", []string{"verify-key"}, func(r result) bool {
			return r.code == 0 && strings.Contains(r.stdout, "ok: every encrypted value decrypts")
		}},
		{"rekey dry run", []string{"rekey", "--to", "file:new_key"}, func(r result) bool { return r.code == 0 }},
		{"check before start", []string{"--", cmd, "worker"}, func(r result) bool {
			return r.code == 0 && r.child != nil && strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name())
		}},
	}
	states := []string{"wal held by a running process", "wal after a crash", "wal closed cleanly", "rollback journal"}
	for _, state := range states {
		t.Run(state, func(t *testing.T) {
			ke := newKeyE2E(t, n8ntest.SQLite2x)
			dir := filepath.Join(t.TempDir(), "db")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "database.sqlite")
			if err := os.Rename(ke.dbPath, db); err != nil {
				t.Fatal(err)
			}
			switch state {
			case "wal held by a running process":
				toWAL(t, db)
				holdWAL(t, db)
			case "wal after a crash":
				// The files as a process killed while it held them leaves
				// them: the database, a WAL with commits, the index.
				live := filepath.Join(t.TempDir(), "live.sqlite")
				b, _ := os.ReadFile(db)
				if err := os.WriteFile(live, b, 0o600); err != nil {
					t.Fatal(err)
				}
				toWAL(t, live)
				stop := holdWAL(t, live)
				for _, suffix := range []string{"", "-wal", "-shm"} {
					b, err := os.ReadFile(live + suffix)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(db+suffix, b, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				stop()
			case "wal closed cleanly":
				toWAL(t, db)
			}
			for _, c := range commands {
				before := dirState(t, dir)
				existed := map[string]bool{}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					existed[e.Name()] = true
				}
				traceFile := filepath.Join(t.TempDir(), "strace.log")
				args := append([]string{"-f", "-qq", "-y", "-e", "trace=" + straceCalls, "-o", traceFile, binPath}, c.args...)
				r := ke.runWith(strace, ke.env("DB_SQLITE_DATABASE="+db, "E2E_CHILD_EXIT=0"), args...)
				if !c.ok(r) {
					t.Fatalf("%s: exit %d\n%s\n%s", c.name, r.code, r.stdout, r.stderr)
				}
				log, err := os.ReadFile(traceFile)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(log), filepath.Base(db)) {
					t.Fatalf("%s: strace saw no access to the database: the trace is not of the command", c.name)
				}
				if bad := writesBeside(string(log), dir, existed); len(bad) > 0 {
					t.Errorf("%s wrote beside the database:\n%s", c.name, strings.Join(bad, "\n"))
				}
				if after := dirState(t, dir); after != before {
					t.Errorf("%s changed the database's folder:\nbefore:\n%s\nafter:\n%s", c.name, before, after)
				}
			}
		})
	}
}

// runWith runs prog with args (the binary under strace or another user's
// identity) as run does the binary.
func (e *e2e) runWith(prog string, env []string, args ...string) result {
	e.t.Helper()
	return e.runCmd(exec.Command(prog, args...), env, nil)
}

// runCmd runs cmd with the sandbox's environment plus env; cred, when not
// nil, runs it as another user.
func (e *e2e) runCmd(cmd *exec.Cmd, env []string, cred *syscall.Credential) result {
	e.t.Helper()
	outDir := e.t.TempDir()
	if cred != nil {
		// The child report is written by the other user.
		outDir = sharedDir(e.t)
		if err := os.Chmod(outDir, 0o777); err != nil {
			e.t.Fatal(err)
		}
	}
	out := filepath.Join(outDir, "child.json")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "N8N_SECRETS_DIR=" + e.dir, "E2E_CHILD_OUT=" + out}, env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	_ = cmd.Run()
	r := result{code: cmd.ProcessState.ExitCode(), stdout: so.String(), stderr: se.String()}
	e.assertNoCanary(r.stdout + r.stderr)
	e.assertLogLines(r.stderr)
	if b, err := os.ReadFile(out); err == nil {
		r.child = &childReport{}
		_ = json.Unmarshal(b, r.child)
	}
	return r
}

// TestReadOnlyCopy: the read-only commands on a copy no one may write (a
// restored snapshot: the folder and the files read-only), as an
// unprivileged user when the tests run as root, in each WAL state and in
// rollback-journal mode.
func TestReadOnlyCopy(t *testing.T) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("no user nobody to run as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	for _, state := range []string{"wal after a crash", "wal closed cleanly", "rollback journal"} {
		t.Run(state, func(t *testing.T) {
			ke := newKeyE2E(t, n8ntest.SQLite2x)
			base := sharedDir(t)
			// The binary and the key where the other user may read them.
			bin := filepath.Join(base, "n8n-secrets")
			b, err := os.ReadFile(binPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bin, b, 0o755); err != nil {
				t.Fatal(err)
			}
			secrets := filepath.Join(base, "secrets")
			if err := os.Mkdir(secrets, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(secrets, "n8n_key"), []byte(n8ntest.Key+"\n"), 0o444); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(base, "db")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "database.sqlite")
			src, _ := os.ReadFile(ke.dbPath)
			if err := os.WriteFile(db, src, 0o644); err != nil {
				t.Fatal(err)
			}
			switch state {
			case "wal after a crash":
				live := filepath.Join(t.TempDir(), "live.sqlite")
				if err := os.WriteFile(live, src, 0o600); err != nil {
					t.Fatal(err)
				}
				toWAL(t, live)
				stop := holdWAL(t, live)
				for _, suffix := range []string{"", "-wal", "-shm"} {
					b, err := os.ReadFile(live + suffix)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(db+suffix, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				stop()
			case "wal closed cleanly":
				toWAL(t, db)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if err := os.Chmod(filepath.Join(dir, e.Name()), 0o444); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			before := dirState(t, dir)
			ke.home = base
			env := []string{"N8N_ENCRYPTION_KEY=file:n8n_key", "N8N_SECRETS_DIR=" + secrets, "DB_SQLITE_DATABASE=" + db,
				"N8N_SECRETS_TIMEOUT=20s", "E2E_CHILD_EXIT=0"}
			for _, args := range [][]string{{"verify-key"}, {"--", "/bin/true", "worker"}} {
				r := ke.runCmd(exec.Command(bin, args...), append(env, "N8N_SECRETS_N8N=on"), cred)
				if r.code != 0 {
					t.Fatalf("%v on a read-only copy: exit %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
				}
				if args[0] == "--" && !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) {
					t.Fatalf("the check before start did not verify the key:\n%s", r.stderr)
				}
			}
			if after := dirState(t, dir); after != before {
				t.Errorf("the read-only copy changed:\n%s\n%s", before, after)
			}
		})
	}
}

// TestHotJournal: after a write interrupted in rollback-journal mode (n8n
// 1.x's SQLite), a hot journal lies beside the database. The read-only
// commands say what it is and what to do (N8N_DB_HOT_JOURNAL, exit 69),
// read nothing and write nothing; the check before start warns under auto
// and starts n8n, which rolls it back.
func TestHotJournal(t *testing.T) {
	sqlite3 := needTool(t, "sqlite3")
	ke := newKeyE2E(t, n8ntest.SQLite1x)
	// A transaction large enough to spill into the database file, killed
	// before it commits.
	cmd := exec.Command(sqlite3, ke.dbPath)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, `PRAGMA cache_size=2; BEGIN; CREATE TABLE spill(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<3000) INSERT INTO spill SELECT randomblob(2000) FROM c; UPDATE credentials_entity SET data = 'torn'; SELECT 'ready';`)
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("sqlite3: %q", line)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if fi, err := os.Stat(ke.dbPath + "-journal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no hot journal was left: %v", err)
	}
	before := dirState(t, filepath.Dir(ke.dbPath))
	r := ke.run(ke.env(), "verify-key")
	if r.code != 69 || !strings.Contains(r.stdout+r.stderr, rekey.CodeDBHotJournal.Name()) || !strings.Contains(r.stderr, "start n8n once") {
		t.Fatalf("verify-key: exit %d, want 69 and %s\n%s\n%s", r.code, rekey.CodeDBHotJournal, r.stdout, r.stderr)
	}
	r = ke.run(ke.env(), "rekey", "--to", "file:new_key")
	if r.code != 69 || !strings.Contains(r.stderr, rekey.CodeDBHotJournal.Name()) {
		t.Fatalf("rekey dry run: exit %d\n%s", r.code, r.stderr)
	}
	r = ke.run(ke.env("E2E_CHILD_EXIT=0"), "--", fakeN8N(t, "n8n"), "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeDBHotJournal.Name()) || !strings.Contains(r.stderr, `"level":"WARN"`) {
		t.Fatalf("before start under auto: exit %d\n%s", r.code, r.stderr)
	}
	if after := dirState(t, filepath.Dir(ke.dbPath)); after != before {
		t.Fatal("a read-only command changed the database or its journal")
	}
	// A writer rolls it back (as n8n does at its start): then everything
	// decrypts again, the torn update undone.
	if out, err := exec.Command(sqlite3, ke.dbPath, "PRAGMA quick_check").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("sqlite3 quick_check: %v %s", err, out)
	}
	if r = ke.run(ke.env(), "verify-key"); r.code != 0 {
		t.Fatalf("after the rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
