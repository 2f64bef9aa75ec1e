package cipher

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

type vector struct {
	Key        string `json:"key"`
	KeyHex     string `json:"key_hex"`
	Plaintext  string `json:"plaintext"`
	Ciphertext string `json:"ciphertext"`
}

func loadVectors(t *testing.T, name string) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	return f.Vectors
}

// TestCBCVectors decrypts what n8n-core 1.123's Cipher.encrypt produced, and
// checks that what we encrypt decrypts back (salts are random).
func TestCBCVectors(t *testing.T) {
	for i, v := range loadVectors(t, "n8n-cipher-cbc-vectors.json") {
		got, err := DecryptCBC(v.Key, v.Ciphertext)
		if err != nil {
			t.Fatalf("vector %d: decrypt: %v", i, err)
		}
		if string(got) != v.Plaintext {
			t.Fatalf("vector %d: plaintext differs", i)
		}
		ct, err := EncryptCBC(v.Key, []byte(v.Plaintext))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ct, CBCPrefix) || ct == v.Ciphertext {
			t.Fatalf("vector %d: not a fresh Salted__ value", i)
		}
		back, err := DecryptCBC(v.Key, ct)
		if err != nil || string(back) != v.Plaintext {
			t.Fatalf("vector %d: round trip failed: %v", i, err)
		}
		if _, err := DecryptCBC(v.Key+"x", v.Ciphertext); !errors.Is(err, ErrDecrypt) {
			// A wrong key may pass the padding check by chance (1 in 256);
			// the UTF-8 check then catches it nearly always.
			t.Fatalf("vector %d: a wrong key decrypted", i)
		}
	}
}

func TestGCMVectors(t *testing.T) {
	for i, v := range loadVectors(t, "n8n-cipher-gcm-vectors.json") {
		got, err := DecryptGCM(v.KeyHex, v.Ciphertext)
		if err != nil {
			t.Fatalf("vector %d: decrypt: %v", i, err)
		}
		if string(got) != v.Plaintext {
			t.Fatalf("vector %d: plaintext differs", i)
		}
		ct, err := EncryptGCM(v.KeyHex, []byte(v.Plaintext))
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecryptGCM(v.KeyHex, ct)
		if err != nil || string(back) != v.Plaintext {
			t.Fatalf("vector %d: round trip failed: %v", i, err)
		}
		other := strings.Repeat("1", 64)
		if _, err := DecryptGCM(other, v.Ciphertext); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("vector %d: a wrong key decrypted", i)
		}
	}
}

// TestUnwrapFixture unwraps the data key of the n8n 2.40.7 PostgreSQL
// fixture's deployment_key table (values copied from the dump).
func TestUnwrapFixture(t *testing.T) {
	const instanceKey = "fixture-key-7f3c9a1e5b2d4c6e8a0f1b3d5e7a9c1e"
	b, err := os.ReadFile("testdata/n8n-2.40-deployment-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct{ ID, Type, Value, Plaintext string }
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 5 {
		t.Fatalf("want the fixture's wrapped rows, got %d", len(rows))
	}
	for _, r := range rows {
		got, err := Unwrap(instanceKey, r.Value)
		if err != nil {
			t.Fatalf("row %s (%s): %v", r.ID, r.Type, err)
		}
		if string(got) != r.Plaintext {
			t.Fatalf("row %s (%s): plaintext differs", r.ID, r.Type)
		}
		if _, err := Unwrap(instanceKey+"x", r.Value); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("row %s: another instance key unwrapped it", r.ID)
		}
	}
}

func TestLatin1(t *testing.T) {
	// "€" is U+20AC: Node's "binary" encoding keeps the low byte 0xAC.
	if got := latin1("aé€"); string(got) != "a\xe9\xac" {
		t.Fatalf("latin1: got %x", got)
	}
	// A character outside the BMP is two UTF-16 units.
	if got := latin1("😀"); len(got) != 2 {
		t.Fatalf("latin1: astral: got %d bytes", len(got))
	}
}

func TestParseValue(t *testing.T) {
	cases := []struct {
		in     string
		format Format
		id     string
	}{
		{"U2FsdGVkX1+abc=", FormatCBC, ""},
		{"OGmmZ4eY9X4GK7Li:AQauQHX2", FormatPrefixed, "OGmmZ4eY9X4GK7Li"},
		{"a_b-c:x", FormatPrefixed, "a_b-c"},
		{"", FormatUnknown, ""},
		{"plain text", FormatUnknown, ""},
		{"has space:x", FormatUnknown, ""},
		{strings.Repeat("a", 37) + ":x", FormatUnknown, ""},
	}
	for _, c := range cases {
		v := ParseValue(c.in)
		if v.Format != c.format || v.KeyID != c.id {
			t.Errorf("ParseValue(case %q): got %s %q", c.in[:min(len(c.in), 12)], v.Format, v.KeyID)
		}
		if v.Stored() != c.in {
			t.Errorf("Stored does not give the input back")
		}
	}
}

func FuzzParseValue(f *testing.F) {
	f.Add("U2FsdGVkX1+abc=")
	f.Add("id:body")
	f.Fuzz(func(t *testing.T, s string) {
		if ParseValue(s).Stored() != s {
			t.Fatal("Stored does not give the input back")
		}
		_, _ = DecryptCBC("k", s)
		_, _ = DecryptGCM(strings.Repeat("0", 64), s)
	})
}
