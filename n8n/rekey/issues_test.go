package rekey

// Tests of the findings of issues 18 and 19 on rekey and verify: each one
// failed before its change.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
)

// signingRows returns each signing row's plaintext under key, by type.
func signingRows(t *testing.T, f *fixture, key string) map[string]string {
	t.Helper()
	rows, _, err := readDeploymentKeys(context.Background(), f.db, f.db.SQL())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if !isSigning(r.typ) {
			continue
		}
		pt, err := r.unwrap(key)
		if err != nil {
			t.Fatalf("%s: deployment_key %s does not unwrap", f.name, r.name())
		}
		out[r.typ] = string(pt)
	}
	if len(out) != 3 {
		t.Fatalf("%s: %d signing rows, want 3", f.name, len(out))
	}
	return out
}

// TestRegenerateAfterKeep (issue 18, item 2): the sequence the docs lead to,
// a keep rekey then "after a leak, regenerate" to the same key, regenerates
// the signing secrets; before, every row was "already under the new key"
// and the run reported success with nothing done. A third run changes
// nothing.
func TestRegenerateAfterKeep(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true}); err != nil {
		t.Fatal(err)
	}
	for typ, pt := range signingRows(t, f, newKey) {
		if pt != string(signingSecret(typ, n8ntest.Key)) {
			t.Fatalf("keep did not keep %s", typ)
		}
	}
	dry, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Signing: SigningRegenerate})
	if err != nil || dry.Changes != 3 {
		t.Fatalf("dry run of regenerate after keep: %v, %d changes, want 3", err, dry.Changes)
	}
	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, Signing: SigningRegenerate})
	if err != nil || res.Changes != 3 {
		t.Fatalf("regenerate after keep: %v, %d changes, want 3", err, res.Changes)
	}
	for typ, pt := range signingRows(t, f, newKey) {
		if pt != string(signingSecret(typ, newKey)) {
			t.Errorf("regenerate after keep: %s is not the secret derived from the new key", typ)
		}
	}
	n := 0
	for _, k := range res.Keys {
		if strings.HasPrefix(k.Action, "regenerated") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("the report names %d regenerated rows, want 3: %s", n, report(res.Keys))
	}
	sum := checksum(t, f.db)
	again, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, Signing: SigningRegenerate})
	if err != nil || again.Changes != 0 || checksum(t, f.db) != sum {
		t.Fatalf("a second regenerate: %v, %d changes", err, again.Changes)
	}
	if !strings.Contains(strings.Join(again.Notes, "\n"), "nothing to regenerate") {
		t.Errorf("a second regenerate does not say there was nothing to regenerate: %q", again.Notes)
	}
}

// TestRegeneratePlainSigningRows (issue 19, item 5): signing rows that
// early 2.x stored in plaintext (algorithm NULL) are regenerated too;
// before, they were "left as it is" while the notes said regenerated.
func TestRegeneratePlainSigningRows(t *testing.T) {
	ctx := context.Background()
	for _, keepFirst := range []bool{false, true} {
		f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
		for typ, pt := range signingRows(t, f, n8ntest.Key) {
			f.conn.Exec(t, `UPDATE deployment_key SET "value" = ?, "algorithm" = NULL WHERE "type" = ?`, pt, typ)
		}
		if keepFirst {
			if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, Signing: SigningRegenerate})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, _ := readDeploymentKeys(ctx, f.db, f.db.SQL())
		seen := 0
		for _, r := range rows {
			if !isSigning(r.typ) {
				continue
			}
			seen++
			pt, err := r.unwrap(newKey)
			if err != nil || string(pt) != string(signingSecret(r.typ, newKey)) {
				t.Errorf("keep first %v: plaintext %s was not regenerated from the new key (%s)", keepFirst, r.typ, report(res.Keys))
			}
		}
		if seen != 3 {
			t.Fatalf("%d signing rows", seen)
		}
	}
}

// TestSkipStrayDataKey (issue 19, item 7): a data key that no key unwraps,
// and a value under it, can be skipped; before, the skip list named the
// row "deployment_key ID" while the check before commit named it "ID
// (data_encryption)", and the run failed (ErrCheckFailed, 65).
func TestSkipStrayDataKey(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	const strayID, strayDEK = "strayDataKey0001", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	wrapped, err := cipher.Wrap(otherKey, []byte(strayDEK))
	if err != nil {
		t.Fatal(err)
	}
	f.conn.Exec(t, `INSERT INTO deployment_key ("id", "type", "value", "algorithm", "status") VALUES (?, ?, ?, ?, ?)`, strayID, typeDataKey, wrapped, algGCM, statusInactive)
	enc := n8ntest.Encrypter{DEKID: strayID, DEK: strayDEK}
	f.conn.Exec(t, `INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (?, ?, ?, ?)`, "strayCred", "stray", enc.Encrypt(t, `{"stray":"CANARY-stray"}`), "x")

	sum := checksum(t, f.db)
	if _, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true}); !errors.Is(err, ErrMismatch) ||
		!strings.Contains(err.Error(), strayID) || !strings.Contains(err.Error(), "strayCred") {
		t.Fatalf("without --skip-undecryptable: want ErrMismatch naming both, got %v", err)
	}
	if checksum(t, f.db) != sum {
		t.Fatal("a refused run wrote")
	}
	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, SkipUndecryptable: true})
	if err != nil || !res.Applied || len(res.Skipped) != 2 {
		t.Fatalf("--skip-undecryptable: %v, skipped %q", err, res.Skipped)
	}
	vr, err := Verify(ctx, f.db, newKey, nil)
	if !errors.Is(err, ErrMismatch) || vr.Failed != 2 {
		t.Fatalf("after the skip, exactly the stray key and its value fail: %v", err)
	}
	for _, s := range res.Skipped {
		found := false
		for _, fl := range failedOf(vr.Counts) {
			found = found || fl == s
		}
		if !found {
			t.Errorf("skipped %q is not named so by verify (%q)", s, failedOf(vr.Counts))
		}
	}
}

// TestNotEncryptedValue (issue 19, item 10): a value that does not look
// encrypted is counted, named by location and id (never its text), fails
// verify, and stops rekey like a value under neither key; before, it was
// left out of every count and verify said "ok".
func TestNotEncryptedValue(t *testing.T) {
	ctx := context.Background()
	for _, v := range variants {
		f := openSQLiteFixture(t, v)
		const plain = `{"user":"CANARY-plain-cred"}`
		f.conn.Exec(t, `INSERT INTO credentials_entity ("id", "name", "data", "type") VALUES (?, ?, ?, ?)`, "plainCred", "plain", plain, "x")
		vr, err := Verify(ctx, f.db, n8ntest.Key, nil)
		if !errors.Is(err, ErrMismatch) || vr.Failed != 1 {
			t.Fatalf("%s: verify: want one failure, got %v", f.name, err)
		}
		var got *Count
		for i, c := range vr.Counts {
			if c.Location == "credentials_entity.data" && c.Format == string(cipher.FormatUnknown) {
				got = &vr.Counts[i]
			}
		}
		if got == nil || got.Values != 1 || len(got.Failed) != 1 || got.Failed[0] != "plainCred (does not look encrypted)" {
			t.Fatalf("%s: counts: %s", f.name, report(vr.Counts))
		}
		if strings.Contains(report(vr)+err.Error(), "CANARY") {
			t.Fatalf("%s: the report holds the value", f.name)
		}
		sum := checksum(t, f.db)
		_, err = Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true})
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "plainCred (does not look encrypted)") || strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("%s: rekey: want ErrMismatch naming plainCred, got %v", f.name, err)
		}
		if checksum(t, f.db) != sum {
			t.Fatalf("%s: a refused rekey wrote", f.name)
		}
		res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, SkipUndecryptable: true})
		if err != nil || len(res.Skipped) != 1 {
			t.Fatalf("%s: --skip-undecryptable: %v, skipped %q", f.name, err, res.Skipped)
		}
	}
}

// TestRewrapOnlyNamesLegacy (issue 19, smaller): the --rewrap-only refusal
// names the legacy values, and for the secrets_provider_connection row of
// n8n's own 1.x migration says what to do.
func TestRewrapOnlyNamesLegacy(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	v, _ := cipher.EncryptCBC(n8ntest.Key, []byte(`{"url":"CANARY-migrated"}`))
	f.conn.Exec(t, `INSERT INTO secrets_provider_connection ("id", "providerKey", "type", "encryptedSettings", "isEnabled") VALUES (?, ?, ?, ?, ?)`, 7002, "vault-migrated", "vault", v, true)
	_, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true, RewrapOnly: true})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "secrets_provider_connection.encryptedSettings 7002") ||
		!strings.Contains(err.Error(), "save the connection's settings once") {
		t.Fatalf("want a refusal naming the row and what to do, got %v", err)
	}
}

// mfaSecrets returns each user's stored mfaSecret, by user id.
func mfaSecrets(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	rows, err := f.db.Batch(context.Background(), f.db.SQL(), "user", []string{"id"}, []string{"mfaSecret"}, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if r.Values[0] != "" {
			out[keyString(r.Key)] = r.Values[0]
		}
	}
	return out
}

// TestMFAPrefixKept (issue 19, item 4): n8n's session hash includes the
// first 3 characters of the stored MFA secret, on 2.x the start of its data
// key's id. A full rekey with keep re-encrypts each MFA secret under a
// fresh data key whose id starts the same way, also for a secret under an
// inactive data key of n8n's own rotation; before, every one moved to one
// fresh key of a random id (every MFA user logged out). The dry run names
// no id that --apply would not use, and the values still decrypt to the
// same secrets.
func TestMFAPrefixKept(t *testing.T) {
	ctx := context.Background()
	f := openSQLiteFixture(t, variant{file: "2x", twoX: true, prefixed: true})
	// A second MFA user, under an earlier (inactive) data key.
	const oldID, oldDEK = "zQ7inactiveKey01", "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"
	wrapped, err := cipher.Wrap(n8ntest.Key, []byte(oldDEK))
	if err != nil {
		t.Fatal(err)
	}
	f.conn.Exec(t, `INSERT INTO deployment_key ("id", "type", "value", "algorithm", "status") VALUES (?, ?, ?, ?, ?)`, oldID, typeDataKey, wrapped, algGCM, statusInactive)
	enc := n8ntest.Encrypter{DEKID: oldID, DEK: oldDEK}
	f.conn.Exec(t, `INSERT INTO "user" ("id", "email", "password", "mfaEnabled", "mfaSecret", "mfaRecoveryCodes") VALUES (?, ?, ?, ?, ?, ?)`,
		"mfa-user-2", "second@fixture.test", "x", true, enc.Encrypt(t, "CANARYMFASECRET2"), enc.Encrypt(t, "code-1"))
	before := mfaSecrets(t, f)
	plain := plaintexts(t, f.db, n8ntest.Key)
	if len(before) != 2 {
		t.Fatalf("%d MFA users, want 2", len(before))
	}

	dry, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey})
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]bool{}
	for _, k := range dry.Keys {
		if strings.HasPrefix(k.Action, "new ") {
			if k.ID != "" {
				t.Errorf("the dry run announces data key id %s, which --apply does not use", k.ID)
			}
			prefixes[k.IDPrefix] = true
		}
	}
	if !prefixes[sqlite2xDEK.id[:3]] || !prefixes[oldID[:3]] || len(prefixes) != 2 {
		t.Fatalf("the dry run's new data keys start with %v, want %s and %s", prefixes, sqlite2xDEK.id[:3], oldID[:3])
	}
	for _, n := range dry.Notes {
		if strings.HasPrefix(n, "a fresh data key") && !strings.Contains(n, "chosen at --apply") {
			t.Errorf("the dry run's note names a data key id: %q", n)
		}
	}

	res, err := Run(ctx, f.db, Options{From: n8ntest.Key, To: newKey, Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes != dry.Changes {
		t.Errorf("apply made %d changes, the dry run said %d", res.Changes, dry.Changes)
	}
	after := mfaSecrets(t, f)
	for id, v := range before {
		if after[id] == v {
			t.Errorf("user %s: the MFA secret was not re-encrypted", id)
		}
		if after[id][:3] != v[:3] {
			t.Errorf("user %s: the MFA secret's first 3 characters changed: its session is logged out", id)
		}
	}
	now := plaintexts(t, f.db, newKey)
	for k, v := range plain {
		if now[k] != v {
			t.Errorf("%s: another plaintext after the rekey", k)
		}
	}
	// One active data key, and the fresh inactive one for the second
	// prefix; neither old data key holds an MFA secret any more.
	rows, _, _ := readDeploymentKeys(ctx, f.db, f.db.SQL())
	active := 0
	for _, r := range rows {
		if r.typ == typeDataKey && r.status == statusActive {
			active++
			if !strings.HasPrefix(r.id, sqlite2xDEK.id[:3]) || r.id == sqlite2xDEK.id {
				t.Errorf("the new active data key %s does not start like the old one", r.id)
			}
		}
	}
	if active != 1 {
		t.Fatalf("%d active data keys", active)
	}
	for _, v := range after {
		if id := cipher.ParseValue(v).KeyID; id == sqlite2xDEK.id || id == oldID {
			t.Errorf("an MFA secret is still under the old data key %s", id)
		}
	}
	if _, err := Verify(ctx, f.db, newKey, nil); err != nil {
		t.Fatal(err)
	}
}

// FuzzRuntimeValues: the run-data scanner never panics, and on any JSON
// array it splits exactly the elements encoding/json finds.
func FuzzRuntimeValues(f *testing.F) {
	f.Add([]byte(`[{"executionData":"1"},{"runtimeData":"2"},{"credentials":"3"},"U2FsdGVkX1abc"]`))
	f.Add([]byte(`[ {"a":"\"runtimeData\":"} , "x\\", [1,{"b":[]}] ]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"executionContext":"1"},{"secureArtifacts":"2"},["3"],"k1:AQ"]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		runtimeValues(data)
		var want []json.RawMessage
		if json.Unmarshal(data, &want) != nil {
			return
		}
		starts, ends, ok := splitArray(data)
		if !ok || len(starts) != len(want) {
			t.Fatalf("split %d element(s) (ok %v), encoding/json %d", len(starts), ok, len(want))
		}
		for i := range starts {
			if !bytes.Equal(data[starts[i]:ends[i]], bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d differs", i)
			}
		}
	})
}
