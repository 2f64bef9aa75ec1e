package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/n8n-secrets/n8n-secrets/internal/logcode"
)

func TestSettingsPath(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"user folder", map[string]string{EnvUserFolder: "/data", "HOME": "/home/node"}, "/data/.n8n/config"},
		{"home", map[string]string{"HOME": "/home/node"}, "/home/node/.n8n/config"},
		{"empty user folder is the current directory", map[string]string{EnvUserFolder: "", "HOME": "/home/node"}, filepath.Join(cwd, ".n8n/config")},
		{"relative user folder", map[string]string{EnvUserFolder: "data"}, filepath.Join(cwd, "data/.n8n/config")},
		{"neither", map[string]string{}, filepath.Join(cwd, ".n8n/config")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SettingsPath(tt.env)
			if err != nil || got != tt.want {
				t.Errorf("SettingsPath = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

// TestSettingsFixture reads the file n8n 1.123 wrote and writes it back
// byte for byte.
func TestSettingsFixture(t *testing.T) {
	data := fixtureSettings(t)
	doc, err := parseSettings(data)
	if err != nil {
		t.Fatal(err)
	}
	if key, ok := doc.key(); !ok || key != fixtureKey {
		t.Fatalf("key() = %d bytes, %v", len(key), ok)
	}
	same, err := doc.withKey(fixtureKey)
	if err != nil {
		t.Fatal(err)
	}
	out, err := same.render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Errorf("render differs from n8n's file:\n%q\n%q", out, data)
	}
}

func TestSettingsMatch(t *testing.T) {
	dir, _ := userFolder(t, fixtureSettings(t), 0o600)
	r := mustCheck(t, Options{}, []string{"n8n", "worker"}, env(dir, EnvKey, fixtureKey), nil)
	if len(r.Findings) != 0 {
		t.Errorf("findings %v", codesOf(r))
	}
}

func TestSettingsMissingIsFine(t *testing.T) {
	dir, path := userFolder(t, nil, 0)
	r := mustCheck(t, Options{SettingsMode: SettingsSync}, []string{"n8n", "worker"}, env(dir, EnvKey, fixtureKey), nil)
	if len(r.Findings) != 0 || r.SettingsFile != path {
		t.Errorf("findings %v, settings file %q", codesOf(r), r.SettingsFile)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a settings file was created: %v", err)
	}
}

func TestSettingsKeyMismatch(t *testing.T) {
	data := fixtureSettings(t)
	dir, path := userFolder(t, data, 0o600)
	r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey), nil)
	f := only(t, r, CodeSettingsKeyMismatch)
	if f.Severity != Error || !r.Failed() {
		t.Errorf("severity %v", f.Severity)
	}
	for _, s := range []string{path, Fingerprint(fixtureKey), Fingerprint(otherKey), "Mismatching encryption keys"} {
		if !strings.Contains(f.Message, s) {
			t.Errorf("message %q lacks %q", f.Message, s)
		}
	}
	if !strings.Contains(f.Hint, SettingSettingsMode+"=sync") {
		t.Errorf("hint %q does not offer sync", f.Hint)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Error("check mode changed the file")
	}
}

func TestSettingsReadable(t *testing.T) {
	for _, tt := range []struct {
		mode os.FileMode
		want bool
	}{{0o644, true}, {0o640, true}, {0o604, true}, {0o600, false}, {0o400, false}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			dir, path := userFolder(t, fixtureSettings(t), tt.mode)
			r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, fixtureKey), nil)
			if !tt.want {
				none(t, r, CodeSettingsReadable)
				return
			}
			f := only(t, r, CodeSettingsReadable)
			if f.Severity != Warning || !strings.Contains(f.Message, path) || !strings.Contains(f.Message, fmt.Sprintf("mode %04o", tt.mode.Perm())) {
				t.Errorf("got %v %q", f.Severity, f.Message)
			}
		})
	}
}

func TestSettingsInvalid(t *testing.T) {
	for _, tt := range []struct{ name, content, says string }{
		{"empty", "", "empty"},
		{"truncated", "{\n\t\"encryptionKey\": \"abc", "unexpected end"},
		{"bare word", `{"encryptionKey": secret}`, "syntax error at byte"},
		{"array", `["a"]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"two objects", `{} {}`, "data after the object"},
		{"byte order mark", "\ufeff{}", "syntax error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := userFolder(t, []byte(tt.content), 0o600)
			r := mustCheck(t, Options{SettingsMode: SettingsSync}, argvStart, env(dir, EnvKey, fixtureKey), nil)
			f := only(t, r, CodeSettingsInvalid)
			if f.Severity != Error || !strings.Contains(f.Message, tt.says) {
				t.Errorf("got %v %q, want it to say %q", f.Severity, f.Message, tt.says)
			}
			none(t, r, CodeSettingsSynced)
		})
	}
}

// TestSettingsWithoutKey: a settings file n8n can parse but whose key it
// cannot use.
func TestSettingsWithoutKey(t *testing.T) {
	for _, content := range []string{`{}`, `{"encryptionKey": 42}`, `{"encryptionKey": ""}`} {
		t.Run(content, func(t *testing.T) {
			dir, path := userFolder(t, []byte(content), 0o600)
			r := mustCheck(t, Options{}, argvStart, env(dir), nil)
			f := only(t, r, CodeKeyMissing)
			if f.Severity != Error || !strings.Contains(f.Message, path) {
				t.Errorf("got %v %q", f.Severity, f.Message)
			}
			r = mustCheck(t, Options{}, argvStart, env(dir, EnvKey, fixtureKey), nil)
			only(t, r, CodeSettingsKeyMismatch)
		})
	}
}

func TestSettingsUnreadable(t *testing.T) {
	dir, path := userFolder(t, nil, 0)
	if err := os.MkdirAll(path, 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, fixtureKey), nil)
	if f := only(t, r, CodeSettingsUnreadable); f.Severity != Error {
		t.Errorf("severity %v", f.Severity)
	}
}

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// syncCheck runs Check in sync mode and returns the report, whose plan is
// closed at the end of the test.
func syncCheck(t *testing.T, opts Options, argv []string, e map[string]string) Report {
	t.Helper()
	opts.SettingsMode = SettingsSync
	r := mustCheck(t, opts, argv, e, nil)
	t.Cleanup(r.Sync.Close)
	return r
}

func TestSettingsSync(t *testing.T) {
	old := "{\n\t\"encryptionKey\": \"" + fixtureKey + "\",\n\t\"tunnelSubdomain\": \"my-sub\",\n\t\"fsStorageMigrated\": true,\n\t\"extra\": {\n\t\t\"list\": [\n\t\t\t1,\n\t\t\t\"<&>\"\n\t\t],\n\t\t\"empty\": {}\n\t}\n}"
	want := strings.Replace(old, fixtureKey, otherKey, 1)
	dir, path := userFolder(t, []byte(old), 0o644)
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	f := only(t, r, CodeSettingsSyncPlanned)
	if f.Severity != Info || r.Failed() || r.Sync == nil {
		t.Fatalf("got %v, failed %v, plan %v, codes %v", f.Severity, r.Failed(), r.Sync != nil, codesOf(r))
	}
	for _, s := range []string{path, Fingerprint(fixtureKey), Fingerprint(otherKey)} {
		if !strings.Contains(f.Message, s) {
			t.Errorf("message %q lacks %q", f.Message, s)
		}
	}
	if r.Sync.OldFingerprint != Fingerprint(fixtureKey) || r.Sync.NewFingerprint != Fingerprint(otherKey) || r.Sync.Path != path {
		t.Errorf("plan %+v", r.Sync)
	}
	none(t, r, CodeSettingsKeyMismatch, CodeSettingsReadable)
	// Check decides; it never writes.
	if got, _ := os.ReadFile(path); string(got) != old {
		t.Fatal("Check wrote the settings file")
	}
	if err := r.Sync.Apply(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 || names[0] != "config" {
		t.Errorf("directory holds %q after the sync, want only config", names)
	}
	// n8n would now start: the file and the environment agree.
	r = mustCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey), nil)
	if len(r.Findings) != 0 {
		t.Errorf("after sync: %v", codesOf(r))
	}
}

func TestSettingsSyncFixture(t *testing.T) {
	dir, path := userFolder(t, fixtureSettings(t), 0o644)
	r := syncCheck(t, Options{}, []string{"n8n", "worker"}, env(dir, EnvKey, otherKey))
	if err := r.Sync.Apply(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "{\n\t\"encryptionKey\": \"" + otherKey + "\"\n}"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSettingsSyncAddsMissingKey(t *testing.T) {
	dir, path := userFolder(t, []byte(`{"tunnelSubdomain":"x","encryptionKey":1,"encryptionKey":null}`), 0o600)
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	only(t, r, CodeSettingsSyncPlanned)
	if err := r.Sync.Apply(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "{\n\t\"tunnelSubdomain\": \"x\",\n\t\"encryptionKey\": \"" + otherKey + "\"\n}"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSettingsSyncRefusedWithOtherErrors: the file holds the only copy of
// the right key when the environment's key is wrong; sync must not replace
// it while anything else refuses the start.
func TestSettingsSyncRefusedWithOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		argv []string
		kv   []string
		code logcode.Code
	}{
		{"pinned fingerprint differs", Options{ExpectFingerprint: Fingerprint(fixtureKey)}, argvStart, []string{EnvKey, otherKey}, CodeFingerprintMismatch},
		{"key is a path", Options{}, argvStart, []string{EnvKey, "/run/secrets/n8n_encryption_key"}, CodeKeyIsPath},
		{"key is a reference", Options{}, argvStart, []string{EnvKey, "vault://secret/n8n#k"}, CodeKeyIsReference},
		{"key quoted twice", Options{}, argvStart, []string{EnvKey, `""` + otherKey + `""`}, CodeKeyQuoted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fixtureSettings(t)
			dir, path := userFolder(t, data, 0o600)
			r := syncCheck(t, tt.opts, tt.argv, env(dir, tt.kv...))
			if !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Code == tt.code && f.Severity == Error }) {
				t.Fatalf("want an error %s, got %v", tt.code, r.Findings)
			}
			f := only(t, r, CodeSettingsKeyMismatch)
			if !strings.Contains(f.Message, "not rewritten") {
				t.Errorf("message does not say the file was kept: %q", f.Message)
			}
			none(t, r, CodeSettingsSyncPlanned)
			if r.Sync != nil {
				t.Fatal("a rewrite was planned")
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("the settings file changed")
			}
		})
	}
}

// TestSettingsSyncRefusesLinks: a settings file that is a symbolic link is
// not rewritten (the rewrite would go wherever it points); the link and its
// target are left alone.
func TestSettingsSyncRefusesLinks(t *testing.T) {
	target := filepath.Join(t.TempDir(), "other.json")
	victim := []byte(`{"encryptionKey":"` + fixtureKey + `","precious":true}`)
	if err := os.WriteFile(target, victim, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, path := userFolder(t, nil, 0)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	if f := only(t, r, CodeSettingsKeyMismatch); !strings.Contains(f.Message, "symbolic link") {
		t.Errorf("message %q", f.Message)
	}
	if r.Sync != nil {
		t.Fatal("a rewrite through a link was planned")
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, victim) {
		t.Fatal("the link's target changed")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o644 {
		t.Fatal("the link's target's mode changed")
	}
}

// TestSettingsSyncRefusesFolderLink: a user folder whose .n8n is a
// symbolic link to another folder (as root, a folder of root's, whose
// owner then passes the owner check) is not rewritten through it; the
// key is still read through it, as n8n does.
func TestSettingsSyncRefusesFolderLink(t *testing.T) {
	elsewhere := t.TempDir()
	victim := []byte(`{"encryptionKey":"` + fixtureKey + `","precious":true}`)
	target := filepath.Join(elsewhere, "config")
	if err := os.WriteFile(target, victim, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, ".n8n")); err != nil {
		t.Fatal(err)
	}
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	if f := only(t, r, CodeSettingsKeyMismatch); !strings.Contains(f.Message, "symbolic link") || !strings.Contains(f.Message, "fingerprint "+Fingerprint(fixtureKey)) {
		t.Errorf("message %q", f.Message)
	}
	if r.Sync != nil {
		t.Fatal("a rewrite through a linked folder was planned")
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, victim) {
		t.Fatal("the linked folder's file changed")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o644 {
		t.Fatal("the linked folder's file's mode changed")
	}
}

// TestSettingsSyncRace: the file is swapped for a link to another file
// between Check and Apply; Apply refuses and touches neither.
func TestSettingsSyncRace(t *testing.T) {
	data := fixtureSettings(t)
	dir, path := userFolder(t, data, 0o600)
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	if r.Sync == nil {
		t.Fatalf("no plan: %v", codesOf(r))
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	err := r.Sync.Apply()
	if err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("apply after a swap: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Fatal("the victim file was overwritten")
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	// The folder swapped for another: the plan still writes to the
	// folder it read, never to the new one.
	dir2, path2 := userFolder(t, data, 0o600)
	r = syncCheck(t, Options{}, argvStart, env(dir2, EnvKey, otherKey))
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(filepath.Dir(path2), moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Dir(path2), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path2, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync.Apply(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path2); !bytes.Equal(got, data) {
		t.Error("the rewrite went to the new folder")
	}
	if got, _ := os.ReadFile(filepath.Join(moved, "config")); !bytes.Contains(got, []byte(otherKey)) {
		t.Error("the folder that was read was not rewritten")
	}
}

// TestSettingsSyncOwner: as root, a file owned by someone other than the
// folder's owner (the user n8n runs as) is not rewritten.
func TestSettingsSyncOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file another owner")
	}
	data := fixtureSettings(t)
	dir, path := userFolder(t, data, 0o600)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	if f := only(t, r, CodeSettingsKeyMismatch); !strings.Contains(f.Message, "owned by uid 65534") {
		t.Errorf("message %q", f.Message)
	}
	if r.Sync != nil {
		t.Fatal("planned a rewrite of a file owned by another user")
	}
	// Owned like its folder: rewritten, owner kept.
	if err := os.Chown(filepath.Dir(path), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	r = syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	if r.Sync == nil {
		t.Fatalf("no plan: %v", codesOf(r))
	}
	if err := r.Sync.Apply(); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("owner after rewrite %d:%d (%v), want 65534", st.Uid, st.Gid, err)
	}
}

func TestSettingsSyncFailure(t *testing.T) {
	data := fixtureSettings(t)
	dir, path := userFolder(t, data, 0o644)
	r := syncCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey))
	renameAt = func(int, string, int, string) error { return errors.New("injected rename failure") }
	t.Cleanup(func() { renameAt = unix.Renameat })
	if err := r.Sync.Apply(); err == nil || !strings.Contains(err.Error(), "injected rename failure") {
		t.Errorf("apply: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Error("the file changed although the sync failed")
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("temporary file left behind: %q", names)
	}
}

// TestSettingsNotRegular: a FIFO or a folder where the settings file should
// be is reported, and reading it never blocks.
func TestSettingsNotRegular(t *testing.T) {
	dir, path := userFolder(t, nil, 0)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustCheck(t, Options{}, argvStart, env(dir, EnvKey, otherKey), nil)
	if f := only(t, r, CodeSettingsUnreadable); !strings.Contains(f.Message, "not a regular file") {
		t.Errorf("message %q", f.Message)
	}
	// Nothing was read from it: no claim that others can read a key.
	none(t, r, CodeSettingsReadable)
}

// TestRenderMatchesNode compares render with JSON.stringify(JSON.parse(s),
// null, "\t") run by Node.js, what n8n writes, when node is installed.
func TestRenderMatchesNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed (.ci/run installs it for the real n8n): under CI=true this is a failure")
		}
		t.Skip("node not installed")
	}
	inputs := []string{
		string(fixtureSettings(t)),
		`{"encryptionKey":"k","tunnelSubdomain":"s","fsStorageMigrated":false}`,
		`{"a":{"b":[1,2,{"c":null}],"d":{},"e":[]},"encryptionKey":"k\u00e9\"\\/<>&\n"}`,
		`{ "x" : [ ] , "y" : { } , "z" : "\u2028 ünï" , "encryptionKey" : "k" }`,
		`{"a":1,"encryptionKey":"x","a":2}`,
	}
	for _, in := range inputs {
		cmd := exec.Command(node, "-e", `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);o.encryptionKey="new-key<&>\u00e9";process.stdout.write(JSON.stringify(o,null,"\t"))})`)
		cmd.Stdin = strings.NewReader(in)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		doc, err := parseSettings([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		doc, err = doc.withKey("new-key<&>\u00e9")
		if err != nil {
			t.Fatal(err)
		}
		got, err := doc.render()
		if err != nil {
			t.Fatal(err)
		}
		// Node writes U+2028 as itself, Go escapes it; both parse alike.
		got = bytes.ReplaceAll(got, []byte(`\u2028`), []byte("\u2028"))
		if !bytes.Equal(got, want) {
			t.Errorf("input %s:\ngot  %q\nwant %q", in, got, want)
		}
	}
}

func FuzzParseSettings(f *testing.F) {
	f.Add([]byte("{\n\t\"encryptionKey\": \"" + fixtureKey + "\"\n}"))
	f.Add([]byte(`{"encryptionKey":"k","tunnelSubdomain":"s","a":{"b":[1,{}]}}`))
	f.Add([]byte(`{"encryptionKey":1,"encryptionKey":"x"}`))
	f.Add([]byte(`{} x`))
	f.Add([]byte(`[`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseSettings(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "not valid JSON") && msg != "not a JSON object" && msg != "empty" {
				t.Fatalf("unexpected error text %q", msg)
			}
			return
		}
		// Go accepts exactly what JSON.parse accepts here, up to UTF-8
		// and number details: a parsed document is a valid JSON object.
		m, err := decodeObject(data)
		if err != nil || m == nil {
			t.Fatalf("parsed %q, which is not a JSON object", data)
		}
		doc2, err := doc.withKey("new\x01key\u2028\"")
		if err != nil {
			t.Fatal(err)
		}
		out, err := doc2.render()
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseSettings(out)
		if err != nil {
			t.Fatalf("render produced unparsable %q: %v", out, err)
		}
		if key, ok := back.key(); !ok || key != "new\x01key\u2028\"" {
			t.Fatalf("key lost in %q", out)
		}
		m2, err := decodeObject(out)
		if err != nil {
			t.Fatal(err)
		}
		m["encryptionKey"] = "new\x01key\u2028\""
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(m2)
		if !bytes.Equal(a, b) {
			t.Fatalf("fields changed:\n%s\n%s", a, b)
		}
	})
}

// decodeObject decodes a JSON object, numbers kept as written.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}
