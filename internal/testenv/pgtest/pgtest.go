// Package pgtest starts a real PostgreSQL server for tests: initdb into a
// temporary directory, postgres on a free loopback port with trust
// authentication, stopped by t.Cleanup. Each test makes its own databases
// on it with [Server.CreateDatabase].
//
// The server binaries come from PGTEST_BIN (a directory holding initdb,
// postgres, pg_isready and psql), else the newest
// /usr/lib/postgresql/<version>/bin, else the directory `pg_config
// --bindir` names. When none is found the test is skipped, except under
// CI=true, where it fails: CI installs PostgreSQL (.ci/run) and a missing
// server must not pass unnoticed.
//
// initdb refuses to run as root: when the tests run as root, the data
// directory is owned by, and the server runs as, the user "nobody".
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/syncbuf"
)

// Superuser is the role initdb creates; it logs in without a password.
const Superuser = "postgres"

// startTimeout bounds initdb plus the server's start.
const startTimeout = 60 * time.Second

// Server is one running PostgreSQL.
type Server struct {
	Host string // 127.0.0.1
	Port int
	// Bin is the directory of the server's binaries (psql, pg_dump, …).
	Bin string

	t       testing.TB
	dir     string
	cmd     *exec.Cmd
	cred    *syscall.Credential
	log     syncbuf.Buffer
	exited  chan struct{}
	waitErr error
	stopped bool
}

// Start runs a fresh PostgreSQL server and returns once it accepts
// connections. It is stopped, and its files removed, by t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findBin(t)
	s := &Server{t: t, Bin: bin, Host: "127.0.0.1", exited: make(chan struct{})}

	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		s.cred = nobody(t)
		// nobody must reach its data directory through ours.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "sock")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		if s.cred != nil {
			if err := os.Chown(d, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				t.Fatalf("pgtest: %v", err)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	initdb := s.command(ctx, "initdb", "-D", data, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}

	for attempt := 0; ; attempt++ {
		s.Port = freePort(t)
		s.cmd = s.command(context.Background(), "postgres", "-D", data, "-k", sock,
			"-c", "listen_addresses="+s.Host, "-p", strconv.Itoa(s.Port),
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=200", "-c", "log_min_messages=warning")
		s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("pgtest: starting postgres: %v", err)
		}
		s.exited = make(chan struct{})
		go func(cmd *exec.Cmd, exited chan struct{}) {
			s.waitErr = cmd.Wait()
			close(exited)
		}(s.cmd, s.exited)
		err := s.waitReady(ctx)
		if err == nil {
			break
		}
		// Another process may have taken the port between freePort and
		// the server's bind: try another one, a few times.
		select {
		case <-s.exited:
			if attempt < 3 && strings.Contains(s.Log(), "could not bind") {
				continue
			}
		default:
		}
		s.Stop()
		t.Fatalf("pgtest: postgres not ready: %v\n%s", err, s.Log())
	}
	t.Cleanup(s.Stop)
	return s
}

// Log returns what the server printed so far.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) waitReady(ctx context.Context) error {
	for {
		c := s.command(ctx, "pg_isready", "-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", Superuser, "-d", "postgres", "-q")
		if c.Run() == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (fast shutdown: SIGINT) and waits for it.
func (s *Server) Stop() {
	if s.stopped || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// command returns a command running one of the server's binaries, as the
// unprivileged user when the tests run as root.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, filepath.Join(s.Bin, name), args...)
	c.Dir = s.dir
	c.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: s.cred}
	return c
}

// DSN returns a libpq URL for database db as user (Superuser when empty),
// without a password: the server trusts loopback connections.
func (s *Server) DSN(db, user string) string {
	if user == "" {
		user = Superuser
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", user, s.Host, s.Port, db)
}

// CreateDatabase creates a database named name, owned by owner (a role
// created with login and the password pw when it does not exist yet; ""
// means the superuser).
func (s *Server) CreateDatabase(name, owner, pw string) {
	s.t.Helper()
	if owner != "" && owner != Superuser {
		s.Exec("postgres", fmt.Sprintf(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN
    CREATE ROLE %s LOGIN PASSWORD %s;
  END IF;
END $$;`, quoteLiteral(owner), quoteIdent(owner), quoteLiteral(pw)))
	} else {
		owner = Superuser
	}
	s.Exec("postgres", fmt.Sprintf("CREATE DATABASE %s OWNER %s", quoteIdent(name), quoteIdent(owner)))
}

// Exec runs sql in database db with psql as the superuser and returns its
// output (unaligned, tuples only); it fails the test on an error.
func (s *Server) Exec(db, sql string) string {
	s.t.Helper()
	out, err := s.Psql(db, "-c", sql)
	if err != nil {
		s.t.Fatalf("pgtest: psql -c %q: %v\n%s", short(sql), err, out)
	}
	return out
}

// Restore loads a plain SQL dump (pg_dump's output) into database db.
func (s *Server) Restore(db, dumpFile string) {
	s.t.Helper()
	out, err := s.Psql(db, "-f", dumpFile)
	if err != nil {
		s.t.Fatalf("pgtest: restore %s: %v\n%s", dumpFile, err, out)
	}
}

// Psql runs psql on database db as the superuser with args appended, and
// returns its combined output.
func (s *Server) Psql(db string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", Superuser, "-d", db}
	c := exec.CommandContext(ctx, filepath.Join(s.Bin, "psql"), append(base, args...)...)
	c.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC", "PGCONNECT_TIMEOUT=10")
	out, err := c.CombinedOutput()
	return string(out), err
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Available reports whether a PostgreSQL server can be started, and the
// directory of its binaries.
func Available() (string, bool) {
	dir := findBinDir()
	return dir, dir != ""
}

func findBin(t testing.TB) string {
	t.Helper()
	dir := findBinDir()
	if dir != "" {
		return dir
	}
	msg := "pgtest: no PostgreSQL server found (set PGTEST_BIN, or install postgresql: apt-get install postgresql)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; under CI=true this is a failure, not a skip")
	}
	t.Skip(msg)
	return ""
}

func findBinDir() string {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres", "pg_isready", "psql"} {
			if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("PGTEST_BIN"); d != "" {
		if has(d) {
			return d
		}
		return ""
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, d := range matches {
		if has(d) {
			return d
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func nobody(t testing.TB) *syscall.Credential {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("pgtest: running as root needs the user nobody to run postgres: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RequirePasswords makes every role but the superuser log in over TCP with
// its password (scram-sha-256), so that a password that is wrong, or a
// role whose VALID UNTIL has passed, is refused: with the default trust
// authentication any login succeeds. The superuser keeps trust, for the
// helpers above.
func (s *Server) RequirePasswords() {
	s.t.Helper()
	hba := "local all all trust\n" +
		"host all " + Superuser + " 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	path := filepath.Join(s.dir, "data", "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hba), 0o600); err != nil {
		s.t.Fatalf("pgtest: %v", err)
	}
	if s.cred != nil {
		if err := os.Chown(path, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			s.t.Fatalf("pgtest: %v", err)
		}
	}
	s.Exec("postgres", "SELECT pg_reload_conf()")
}

// SetHBA replaces pg_hba.conf with lines and reloads the server's
// configuration (asynchronously: the caller retries what depends on it).
func (s *Server) SetHBA(lines string) {
	s.t.Helper()
	s.writeData("pg_hba.conf", []byte(lines), 0o600)
	s.Exec("postgres", "SELECT pg_reload_conf()")
}

// EnableSSL turns TLS on with the certificate and key given as PEM
// (written into the data directory, owned by the server's user), and
// reloads the configuration.
func (s *Server) EnableSSL(certPEM, keyPEM []byte) {
	s.t.Helper()
	s.writeData("server.crt", certPEM, 0o600)
	s.writeData("server.key", keyPEM, 0o600)
	s.Exec("postgres", "ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
	s.Exec("postgres", "ALTER SYSTEM SET ssl_key_file = 'server.key'")
	s.Exec("postgres", "ALTER SYSTEM SET ssl = on")
	s.Exec("postgres", "SELECT pg_reload_conf()")
}

// writeData writes a file into the data directory, owned by the user the
// server runs as.
func (s *Server) writeData(name string, b []byte, mode os.FileMode) {
	s.t.Helper()
	path := filepath.Join(s.dir, "data", name)
	if err := os.WriteFile(path, b, mode); err != nil {
		s.t.Fatalf("pgtest: %v", err)
	}
	if s.cred != nil {
		if err := os.Chown(path, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			s.t.Fatalf("pgtest: %v", err)
		}
	}
}

// Login connects to database db as user with password and runs a query; it
// returns psql's error when the server refuses the login. The error holds
// psql's message, which names the user, never the password.
func (s *Server) Login(db, user, password string) error {
	return s.LoginMode(db, user, password, "prefer")
}

// LoginMode is Login with libpq's sslmode (disable, require, …).
func (s *Server) LoginMode(db, user, password, sslmode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, filepath.Join(s.Bin, "psql"), "-X", "-q", "-A", "-t", "-w",
		"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", user, "-d", db, "-c", "SELECT 1")
	c.Env = append(os.Environ(), "LC_ALL=C", "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE="+sslmode)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: login as %s: %v: %s", user, err, strings.TrimSpace(strings.ReplaceAll(string(out), password, "[password]")))
	}
	return nil
}
