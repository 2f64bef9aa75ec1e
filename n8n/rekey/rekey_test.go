package rekey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

const (
	newKey   = "CANARYnewkey-5d1f0c9e8b7a6f5e4d3c2b1a0f9e8d7c"
	otherKey = "CANARYotherkey-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

// fixture is one database to test on, with what was planted in it.
type fixture struct {
	name    string
	db      *store.DB
	conn    *n8ntest.Conn
	twoX    bool
	planted []n8ntest.Planted
}

// The 2.x fixtures' data key and owner, from their notes.
var (
	sqlite2xDEK = struct{ id, key string }{"OGmmZ4eY9X4GK7Li", "991b564a41d79ddea9950394e2ac12532d2c5cf75fa9077339d2e269011c8b56"}
	pg2xDEK     = struct{ id, key string }{"obiouo47z8puchLC", "e2e9c7c5926db3342100b98b963dd4b6d8a549c6ae03b42de8997aaec0680066"}
	owners      = map[string]string{
		n8ntest.SQLite1x: "552fbb66-0352-4675-aaf6-196895e15fc1", n8ntest.SQLite2x: "e2bf2376-2f49-4f8b-b67d-9580a2188129",
		n8ntest.Postgres1x: "bd48c0b6-218b-4e0a-95c1-9012209f016d", n8ntest.Postgres2x: "a36b40f9-bc58-470e-8a05-6132b19be7a2",
	}
)

// variants: each fixture, and for 2.x both formats of planted values.
type variant struct {
	file     string
	twoX     bool
	prefixed bool
}

var variants = []variant{
	{file: "1x", twoX: false},
	{file: "2x", twoX: true, prefixed: false},
	{file: "2x", twoX: true, prefixed: true},
}

func (v variant) String() string {
	f := "cbc"
	if v.prefixed {
		f = "prefixed"
	}
	return v.file + "-" + f
}

func openSQLiteFixture(t *testing.T, v variant) *fixture {
	name := n8ntest.SQLite1x
	dek := struct{ id, key string }{}
	if v.twoX {
		name, dek = n8ntest.SQLite2x, sqlite2xDEK
	}
	_, path := n8ntest.CopySQLite(t, name)
	conn := n8ntest.OpenSQLite(t, path)
	enc := n8ntest.Encrypter{Key: n8ntest.Key}
	if v.prefixed {
		enc.DEKID, enc.DEK = dek.id, dek.key
	}
	planted := n8ntest.Plant(t, conn, enc, v.twoX, owners[name], "s"+v.String())
	conn.Close()
	db, err := store.Open(context.Background(), store.Config{Type: store.TypeSQLite, SQLitePath: path}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{name: "sqlite-" + v.String(), db: db, conn: n8ntest.OpenSQLite(t, path), twoX: v.twoX, planted: planted}
}

func openPGFixture(t *testing.T, s *pgtest.Server, v variant, dbname string) *fixture {
	name := n8ntest.Postgres1x
	dek := struct{ id, key string }{}
	if v.twoX {
		name, dek = n8ntest.Postgres2x, pg2xDEK
	}
	n8ntest.RestorePostgres(t, s, name, dbname)
	conn := n8ntest.OpenPostgres(t, s, dbname)
	enc := n8ntest.Encrypter{Key: n8ntest.Key}
	if v.prefixed {
		enc.DEKID, enc.DEK = dek.id, dek.key
	}
	planted := n8ntest.Plant(t, conn, enc, v.twoX, owners[name], "p"+v.String())
	// The test's own session must not count as n8n holding the database.
	conn.Close()
	n8ntest.WaitIdle(t, s, dbname)
	cfg, err := store.FromEnv(n8ntest.PostgresEnv(s, dbname))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{name: "postgres-" + v.String(), db: db, twoX: v.twoX, planted: planted}
}

// plaintexts decrypts every value of the database with key and returns
// them by "location id".
func plaintexts(t *testing.T, db *store.DB, key string) map[string]string {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, _, err := readDeploymentKeys(ctx, db, tx)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := openKeyring(key, rows)
	out := map[string]string{}
	w := &walker{db: db, q: tx, batch: 7}
	for _, loc := range inventory {
		err := w.each(ctx, loc, func(loc location, id string, parts []part, _ string) (string, error) {
			for _, p := range parts {
				v := cipher.ParseValue(p.value)
				if v.Format == cipher.FormatUnknown {
					continue
				}
				pt, err := kr.decrypt(v, loc.shape)
				if err != nil {
					return "", fmt.Errorf("%s %s does not decrypt", loc.name, partID(loc, id, p))
				}
				out[loc.name+" "+partID(loc, id, p)] = string(pt)
			}
			return "", nil
		}, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checksum digests every value of every location and every deployment_key
// row: equal checksums mean nothing was written.
func checksum(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	for _, tbl := range []struct {
		name     string
		key, col []string
	}{
		{"credentials_entity", []string{"id"}, []string{"data", "updatedAt"}},
		{"user", []string{"id"}, []string{"mfaSecret", "mfaRecoveryCodes"}},
		{"settings", []string{"key"}, []string{"value"}},
		{"deployment_key", []string{"id"}, []string{"type", "value", "algorithm", "status"}},
		{"dynamic_credential_resolver", []string{"id"}, []string{"config"}},
		{"secrets_provider_connection", []string{"id"}, []string{"encryptedSettings"}},
	} {
		if ok, _ := db.HasTable(ctx, db.SQL(), tbl.name); !ok {
			continue
		}
		rows, err := db.Batch(ctx, db.SQL(), tbl.name, tbl.key, tbl.col, nil, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			fmt.Fprintf(h, "%s|%v|%q\n", tbl.name, r.Key, r.Values)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkNoCanary fails if s holds a key or a planted plaintext.
func checkNoCanary(t *testing.T, what, s string, f *fixture) {
	t.Helper()
	secrets := []string{newKey, otherKey, n8ntest.Key}
	for _, p := range f.planted {
		secrets = append(secrets, p.Plaintext)
	}
	for _, c := range n8ntest.Credentials {
		secrets = append(secrets, c)
	}
	secrets = append(secrets, "fixture-api-key-1", "fixture-pg-pässword", "fixture basic pw")
	for _, sec := range secrets {
		if strings.Contains(s, sec) || (len(sec) > 16 && strings.Contains(s, sec[:len(sec)/2])) {
			t.Fatalf("%s: %s holds a secret value", f.name, what)
		}
	}
}

func report(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// exercise runs the whole life cycle on one fixture: verify, dry run (no
// write), wrong --from (no write), apply, second apply (no change), verify
// with both keys.
func exercise(t *testing.T, f *fixture) {
	ctx := context.Background()
	before := plaintexts(t, f.db, n8ntest.Key)
	for _, p := range f.planted {
		if before[p.Location+" "+p.ID] != p.Plaintext {
			t.Fatalf("%s: planted %s %s does not read back", f.name, p.Location, p.ID)
		}
	}
	for id, pt := range n8ntest.Credentials {
		if before["credentials_entity.data "+id] != pt {
			t.Fatalf("%s: fixture credential %s does not decrypt", f.name, id)
		}
	}
	locs := map[string]bool{}
	for k := range before {
		locs[strings.SplitN(k, " ", 2)[0]] = true
		if strings.HasPrefix(k, "settings ") {
			locs[strings.Join(strings.Fields(k)[:2], " ")] = true
		}
	}
	for _, l := range inventory {
		if !f.twoX && (strings.HasPrefix(l.name, "dynamic_") || strings.HasPrefix(l.name, "secrets_provider") || strings.HasPrefix(l.name, "promotion") || l.name == "settings features.saml") {
			continue
		}
		if !locs[l.name] {
			t.Errorf("%s: no value at %s: the test does not cover it", f.name, l.name)
		}
	}

	vr, err := Verify(ctx, f.db, n8ntest.Key, nil)
	if err != nil {
		t.Fatalf("%s: verify with the right key: %v", f.name, err)
	}
	checkNoCanary(t, "verify report", report(vr), f)
	if _, err := Verify(ctx, f.db, otherKey, nil); !errors.Is(err, ErrMismatch) {
		t.Fatalf("%s: verify with another key: want ErrMismatch, got %v", f.name, err)
	}
	if s, err := Sample(ctx, f.db, n8ntest.Key); err != nil || len(s.Checked) < 2 {
		t.Fatalf("%s: sample with the right key: %v", f.name, err)
	}
	if _, err := Sample(ctx, f.db, otherKey); !errors.Is(err, ErrMismatch) {
		t.Fatalf("%s: sample with another key: want ErrMismatch, got %v", f.name, err)
	}

	sum := checksum(t, f.db)
	dry, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey})
	if err != nil {
		t.Fatalf("%s: dry run: %v", f.name, err)
	}
	if dry.Applied || dry.Changes == 0 || checksum(t, f.db) != sum {
		t.Fatalf("%s: the dry run wrote, or found nothing to do (%d changes)", f.name, dry.Changes)
	}
	checkNoCanary(t, "dry-run report", report(dry), f)
	if _, err := Run(ctx, f.db, Options{From: otherKey, To: newKey, Apply: true}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("%s: wrong --from: want ErrMismatch, got %v", f.name, err)
	}
	if checksum(t, f.db) != sum {
		t.Fatalf("%s: a refused run wrote", f.name)
	}

	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, Batch: 2})
	if err != nil {
		t.Fatalf("%s: apply: %v", f.name, err)
	}
	if !res.Applied || res.Changes != dry.Changes {
		t.Fatalf("%s: applied %v with %d changes, the dry run said %d", f.name, res.Applied, res.Changes, dry.Changes)
	}
	after := plaintexts(t, f.db, newKey)
	if len(after) != len(before) {
		t.Fatalf("%s: %d values after, %d before", f.name, len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s: %s changed plaintext", f.name, k)
		}
	}
	for id, pt := range n8ntest.Credentials {
		if after["credentials_entity.data "+id] != pt {
			t.Fatalf("%s: credential %s: wrong plaintext under the new key", f.name, id)
		}
	}
	if _, err := Verify(ctx, f.db, newKey, nil); err != nil {
		t.Fatalf("%s: verify with the new key: %v", f.name, err)
	}
	old, err := Verify(ctx, f.db, n8ntest.Key, nil)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("%s: the old key still verifies", f.name)
	}
	for _, c := range old.Counts {
		if c.OK > 0 && c.Format != formatPlain {
			t.Fatalf("%s: the old key still decrypts %d value(s) at %s (%s)", f.name, c.OK, c.Location, c.Format)
		}
	}
	if f.twoX {
		checkDeploymentKeys(t, f)
	}
	sum = checksum(t, f.db)
	again, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true})
	if err != nil || again.Changes != 0 || checksum(t, f.db) != sum {
		t.Fatalf("%s: a second run: %v, %d changes, checksum same %v", f.name, err, again.Changes, checksum(t, f.db) == sum)
	}
}

// checkDeploymentKeys: after a full rekey every row unwraps with the new
// key, the legacy row holds the new key, one active data key, fresh.
func checkDeploymentKeys(t *testing.T, f *fixture) {
	ctx := context.Background()
	rows, _, err := readDeploymentKeys(ctx, f.db, f.db.SQL())
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, r := range rows {
		pt, err := r.unwrap(newKey)
		if err != nil {
			t.Fatalf("%s: deployment_key %s does not unwrap with the new key", f.name, r.id)
		}
		if r.typ == typeDataKey && r.algorithm == algCBC && string(pt) != newKey {
			t.Fatalf("%s: the legacy row does not hold the new key", f.name)
		}
		if r.typ == typeDataKey && r.status == statusActive {
			active++
			if r.id == sqlite2xDEK.id || r.id == pg2xDEK.id {
				t.Fatalf("%s: the old data key is still active", f.name)
			}
		}
		if r.typ == typeHMAC && string(pt) != string(signingSecret(typeHMAC, n8ntest.Key)) {
			t.Fatalf("%s: signing.hmac was not kept", f.name)
		}
	}
	if active != 1 {
		t.Fatalf("%s: %d active data keys", f.name, active)
	}
}

func TestLifecycleSQLite(t *testing.T) {
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) { exercise(t, openSQLiteFixture(t, v)) })
	}
}

func TestLifecyclePostgres(t *testing.T) {
	s := pgtest.Start(t)
	for i, v := range variants {
		t.Run(v.String(), func(t *testing.T) { exercise(t, openPGFixture(t, s, v, fmt.Sprintf("n8n_%d", i))) })
	}
}

// TestSigningSecrets: the fixture's stored secrets are what n8n derives
// from its key, and regenerate replaces them with the new key's.
func TestSigningSecrets(t *testing.T) {
	want := map[string]string{
		typeHMAC:       "14dffa898cb9cdebc13848114645d0f096f67adf722d11168ad06908d3f0dfee",
		typeJWT:        "1ab8b682b249bd1800107be04828a4d3eb31c0436e98201c405ab9598dbda074",
		typeBinaryData: "X3/Lr5gaZ1Fpjc8S8LZJkKOGpszK5ljSjSo+Rd9qHuY=",
	}
	for typ, w := range want {
		if got := string(signingSecret(typ, n8ntest.Key)); got != w {
			t.Errorf("%s: derived secret differs from n8n's", typ)
		}
	}
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true})
	ctx := context.Background()
	if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, Signing: SigningRegenerate}); err != nil {
		t.Fatal(err)
	}
	rows, _, _ := readDeploymentKeys(ctx, f.db, f.db.SQL())
	seen := 0
	for _, r := range rows {
		if w, ok := want[r.typ]; ok {
			pt, err := r.unwrap(newKey)
			if err != nil || string(pt) == w || string(pt) != string(signingSecret(r.typ, newKey)) {
				t.Fatalf("%s was not regenerated from the new key", r.typ)
			}
			seen++
		}
	}
	if seen != 3 {
		t.Fatalf("saw %d signing rows", seen)
	}
}

// TestRewrapOnly: deployment_key re-wrapped, values untouched; refused on
// values in the legacy format and on 1.x.
func TestRewrapOnly(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	before := map[string]string{}
	for k, v := range rawValues(t, f) {
		before[k] = v
	}
	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, RewrapOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes != 6-1 { // every row but instance.id
		t.Fatalf("rewrap-only: %d changes", res.Changes)
	}
	if got := rawValues(t, f); !equalMaps(got, before) {
		t.Fatal("rewrap-only changed values")
	}
	if _, err := Verify(ctx, f.db, newKey, nil); err != nil {
		t.Fatalf("verify after rewrap-only: %v", err)
	}
	if _, err := Verify(ctx, f.db, n8ntest.Key, nil); !errors.Is(err, ErrMismatch) {
		t.Fatal("the old key still verifies after rewrap-only")
	}

	cbc := openSQLiteFixture(t, variant{file: "2x", twoX: true})
	sum := checksum(t, cbc.db)
	if _, err := Run(ctx, cbc.db, Options{From: n8ntest.Key, To: newKey, Apply: true, RewrapOnly: true}); !errors.Is(err, ErrRefused) {
		t.Fatalf("rewrap-only on CBC values: want ErrRefused, got %v", err)
	}
	one := openSQLiteFixture(t, variant{file: "1x"})
	if _, err := Run(ctx, one.db, Options{From: n8ntest.Key, To: newKey, Apply: true, RewrapOnly: true}); !errors.Is(err, ErrRefused) {
		t.Fatalf("rewrap-only on 1.x: want ErrRefused, got %v", err)
	}
	if checksum(t, cbc.db) != sum {
		t.Fatal("a refused rewrap-only wrote")
	}
}

func rawValues(t *testing.T, f *fixture) map[string]string {
	out := map[string]string{}
	rows, err := f.db.Batch(context.Background(), f.db.SQL(), "credentials_entity", []string{"id"}, []string{"data"}, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out[keyString(r.Key)] = r.Values[0]
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUndecryptable: a value under neither key stops the run with nothing
// written and names it; --skip-undecryptable leaves it and does the rest.
func TestUndecryptable(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "1x"})
	stray, _ := cipher.EncryptCBC(otherKey, []byte(`{"stray":"CANARY-stray"}`))
	f.conn.Exec(t, `INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (?, ?, ?, ?)`, "strayCred", "stray", stray, "x")
	sum := checksum(t, f.db)
	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true})
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "strayCred") {
		t.Fatalf("want ErrMismatch naming strayCred, got %v", err)
	}
	if checksum(t, f.db) != sum || res.Applied {
		t.Fatal("a refused run wrote")
	}
	res, err = Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, SkipUndecryptable: true})
	if err != nil || !res.Applied || len(res.Skipped) != 1 {
		t.Fatalf("skip: %v, skipped %v", err, res.Skipped)
	}
	vr, err := Verify(ctx, f.db, newKey, nil)
	if !errors.Is(err, ErrMismatch) || vr.Failed != 1 {
		t.Fatalf("after skip, only the stray value fails: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "1x"})
	if _, err := Run(ctx, f.db, Options{From: newKey, To: newKey}); !errors.Is(err, ErrRefused) {
		t.Fatalf("same key: %v", err)
	}
	if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Signing: "maybe"}); !errors.Is(err, ErrRefused) {
		t.Fatalf("bad signing mode: %v", err)
	}
}

// TestExecutionDataCounted (issue 19, item 11): encrypted runtime values
// inside executions are counted by what is really encrypted, by format,
// and reported as not verified and not rekeyed, never silently; runtime
// data with nothing encrypted (what n8n 1.123 writes into every
// execution) and the word "runtimeData" in a workflow's own output are
// not counted. Before, every row whose data contained "runtimeData" was.
func TestExecutionDataCounted(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		f := openSQLiteFixture(t, variant{file: "2x", twoX: true})
		executionDataCounted(t, f, f.conn)
	})
	t.Run("postgres", func(t *testing.T) {
		s := pgtest.Start(t)
		n8ntest.RestorePostgres(t, s, n8ntest.Postgres2x, "n8nexec")
		conn := n8ntest.OpenPostgres(t, s, "n8nexec")
		// The rows stand alone: no execution_entity (nor workflow) for them.
		conn.Exec(t, `ALTER TABLE execution_data DROP CONSTRAINT execution_data_fk`)
		cfg, err := store.FromEnv(n8ntest.PostgresEnv(s, "n8nexec"))
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(context.Background(), cfg, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		executionDataCounted(t, &fixture{name: "postgres-2x", db: db, twoX: true}, conn)
	})
}

func executionDataCounted(t *testing.T, f *fixture, conn *n8ntest.Conn) {
	ctx := context.Background()
	dek := sqlite2xDEK
	if strings.HasPrefix(f.name, "postgres") {
		dek = pg2xDEK
	}
	cbc, _ := cipher.EncryptCBC(n8ntest.Key, []byte(`{"version":1,"identity":"CANARY-cookie","metadata":{"source":"manual-execution"}}`))
	gcm := n8ntest.Encrypter{DEKID: dek.id, DEK: dek.key}.Encrypt(t, `{"version":1,"identity":"CANARY-cookie2"}`)
	// Run data as n8n 2.40 serializes it (flatted's stringify, the
	// flatted of n8n 2.40.7's install, given objects of n8n's shapes).
	manual := `[{"startData":"1","resultData":"2","executionData":"3"},{},{"runData":"4","lastNodeExecuted":"5"},{"contextData":"6","nodeExecutionStack":"7","metadata":"8","waitingExecution":"9","waitingExecutionSource":"10","runtimeData":"11"},{"When clicking":"12"},"When clicking",{},[],{},{},{},{"version":1,"establishedAt":1767225600000,"source":"13","credentials":"14","triggerNode":"15"},["16"],"manual","CIPHERTEXT",{"name":"5","type":"17"},{"startTime":1,"executionTime":2,"source":"18","data":"19"},"n8n-nodes-base.manualTrigger",[],{"main":"20"},["21"],["22"],{"json":"23"},{"a":"24"},"runtimeData credentials"]`
	sub := `[{"startData":"1","resultData":"2","executionData":"3"},{},{"runData":"4"},{"contextData":"5","nodeExecutionStack":"6","metadata":"7","waitingExecution":"8","waitingExecutionSource":"9","runtimeData":"10"},{},{},["11"],{},{},{},{"version":1,"establishedAt":2,"source":"12","parentExecutionId":"13"},{"node":"14","data":"15","source":null,"metadata":"16"},"integrated","4240",{"name":"17","credentials":"18"},{"main":"19"},{"parentExecution":"20"},"Start",{"httpHeaderAuth":"21"},["22"],{"executionId":"13","workflowId":"23","executionContext":"24"},{"id":"25","name":"26"},["27"],"wf1",{"version":1,"establishedAt":1,"source":"28","credentials":"29"},"1","x",{"json":"30"},"manual","CIPHERTEXT",{}]`
	v1 := `[{"startData":"1","resultData":"2","executionData":"3"},{},{"runData":"4"},{"contextData":"5","nodeExecutionStack":"6","metadata":"7","waitingExecution":"8","waitingExecutionSource":"9","runtimeData":"10"},{},{},[],{},{},{},{"version":1,"establishedAt":3,"source":"11","triggerNode":"12"},"cli",{"name":"13","type":"14"},"Start","x"]`
	rows := map[int]string{
		// 2.40, a manual execution: runtimeData.credentials, cbc and prefixed.
		4242: strings.Replace(manual, "CIPHERTEXT", cbc, 1),
		4243: strings.Replace(manual, "CIPHERTEXT", gcm, 1),
		// 1.123: runtimeData with nothing encrypted, in every execution.
		4244: v1,
		// A sub-execution waiting with its start item: its parent's
		// context (parentExecution.executionContext); its own has none.
		4246: strings.Replace(sub, "CIPHERTEXT", cbc, 1),
		// A workflow's output that mentions the words and holds a
		// ciphertext of its own.
		4245: `[{"resultData":"1"},{"text":"2"},"runtimeData and credentials: ` + cbc + `"]`,
	}
	for id, data := range rows {
		conn.Exec(t, `INSERT INTO execution_data ("executionId", "workflowData", "data") VALUES (?, ?, ?)`, id, "{}", data)
	}
	vr, err := Verify(ctx, f.db, n8ntest.Key, nil)
	if err != nil || len(vr.Unverified) != 1 {
		t.Fatalf("verify: %v, unverified %+v", err, vr.Unverified)
	}
	if u := vr.Unverified[0]; u.Rows != 3 || u.CBC != 2 || u.Prefixed != 1 {
		t.Fatalf("verify counts %d row(s), %d cbc, %d prefixed; want 3, 2, 1", u.Rows, u.CBC, u.Prefixed)
	}
	for _, signing := range []string{SigningKeep, SigningRegenerate} {
		res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Signing: signing})
		if err != nil || len(res.Unverified) != 1 || res.Unverified[0].Location != executionLocation {
			t.Fatalf("dry run: %v, unverified %+v", err, res.Unverified)
		}
		why := res.Unverified[0].Why
		for _, w := range []string{"session cookie", "2 in the legacy format (cbc)", "cannot read them after the rekey", "1 under a data key stay readable"} {
			if !strings.Contains(why, w) {
				t.Errorf("%s: the report does not say %q: %s", signing, w, why)
			}
		}
		if signing == SigningKeep && !strings.Contains(why, "stay valid sessions") || signing == SigningRegenerate && !strings.Contains(why, "no longer valid") {
			t.Errorf("%s: the report does not say what becomes of the sessions: %s", signing, why)
		}
		if strings.Contains(report(res), "CANARY") {
			t.Fatal("the report holds a plaintext")
		}
	}
}
