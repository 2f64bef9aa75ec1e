package rekey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/n8n-secrets/n8n-secrets/n8n/cipher"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
)

// deployment_key types and algorithms, as n8n 2.x writes them
// (@n8n/db deployment-key.repository, n8n's key-manager.service).
const (
	typeInstanceID  = "instance.id"
	typeHMAC        = "signing.hmac"
	typeJWT         = "signing.jwt"
	typeBinaryData  = "signing.binary_data"
	typeDataKey     = "data_encryption"
	typeJWE         = "jwe.private-key"
	algGCM          = "aes-256-gcm"
	algCBC          = "aes-256-cbc"
	statusActive    = "active"
	statusInactive  = "inactive"
	deploymentTable = "deployment_key"
)

// dkRow is one deployment_key row.
type dkRow struct {
	id, typ, value, algorithm, status string
	algNull                           bool
}

// name is how reports name the row: its id and type, the same string in a
// failure, a skip list and the check before commit.
func (r dkRow) name() string { return r.id + " (" + r.typ + ")" }

// wrapping is how a deployment_key row's value is protected.
type wrapping int

const (
	wrapGCM   wrapping = iota // GCM under the wrapping key (the current format)
	wrapCBC                   // CBC under the instance key (jwe.private-key; 2.19's data keys)
	wrapPlain                 // stored as it is (instance.id; signing rows of early 2.x)
	wrapRaw                   // a data key stored raw (2.18): n8n repairs it at its next start
)

// rawDEK is checked with the length apart: {64} would compile into 64
// copies of the class, 172 allocations at every start.
var rawDEK = regexp.MustCompile(`^[0-9a-fA-F]+$`)

func (r dkRow) wrapping() wrapping {
	switch {
	case r.typ == typeJWE:
		return wrapCBC
	case r.algNull || r.typ == typeInstanceID:
		return wrapPlain
	case strings.HasPrefix(r.value, cipher.CBCPrefix):
		return wrapCBC
	case r.typ == typeDataKey && len(r.value) == 64 && rawDEK.MatchString(r.value):
		return wrapRaw
	}
	return wrapGCM
}

// unwrap returns the row's plaintext under instance key key.
func (r dkRow) unwrap(key string) ([]byte, error) {
	switch r.wrapping() {
	case wrapGCM:
		return cipher.Unwrap(key, r.value)
	case wrapCBC:
		return cipher.DecryptCBC(key, r.value)
	case wrapPlain:
		return []byte(r.value), nil
	}
	return nil, errors.New("rekey: a data key stored raw (n8n 2.18's format): start n8n 2.40 or later once with the current key, it re-wraps it")
}

// rewrap protects plaintext for the row the way it already is, under key.
func (r dkRow) rewrap(key string, plaintext []byte) (string, error) {
	switch r.wrapping() {
	case wrapGCM:
		return cipher.Wrap(key, plaintext)
	case wrapCBC:
		return cipher.EncryptCBC(key, plaintext)
	}
	return string(plaintext), nil
}

// dataKey is a data key that values are encrypted under.
type dataKey struct {
	algorithm string // algGCM (the key is 64 hex digits) or algCBC (a key string)
	key       string
	active    bool
}

// keyring is what one instance key opens: the data keys it unwraps, and
// the key of unprefixed values (the stored legacy row's, else itself).
type keyring struct {
	instance string
	dataKeys map[string]dataKey
	legacy   string
}

// readDeploymentKeys reads the deployment_key table; nil when the table
// does not exist (n8n 1.x, or 2.x never started).
func readDeploymentKeys(ctx context.Context, db *store.DB, q store.Querier) ([]dkRow, bool, error) {
	ok, err := db.HasTable(ctx, q, deploymentTable)
	if err != nil || !ok {
		return nil, false, err
	}
	rows, err := q.QueryContext(ctx, fmt.Sprintf(`SELECT "id", "type", "value", "algorithm", "status" FROM %s ORDER BY "id"`, db.Table(deploymentTable)))
	if err != nil {
		return nil, true, db.Classify("read deployment_key", err)
	}
	defer rows.Close()
	var out []dkRow
	for rows.Next() {
		var r dkRow
		var alg sql.NullString
		if err := rows.Scan(&r.id, &r.typ, &r.value, &alg, &r.status); err != nil {
			return nil, true, db.Classify("read deployment_key", err)
		}
		r.algorithm, r.algNull = alg.String, !alg.Valid
		out = append(out, r)
	}
	return out, true, db.Classify("read deployment_key", rows.Err())
}

// legacyRow returns the stored legacy data key row (data_encryption,
// aes-256-cbc), as n8n's findDataEncryptionKeyByAlgorithm("aes-256-cbc")
// picks it: the first one.
func legacyRow(rows []dkRow) *dkRow {
	for i := range rows {
		if rows[i].typ == typeDataKey && rows[i].algorithm == algCBC {
			return &rows[i]
		}
	}
	return nil
}

// open builds the keyring of instance key key over rows: every data key it
// unwraps. failed lists the rows it cannot read.
func openKeyring(key string, rows []dkRow) (kr keyring, failed []dkRow) {
	kr = keyring{instance: key, dataKeys: map[string]dataKey{}, legacy: key}
	for _, r := range rows {
		pt, err := r.unwrap(key)
		if err != nil {
			if r.wrapping() != wrapPlain {
				failed = append(failed, r)
			}
			continue
		}
		if r.typ == typeDataKey {
			kr.dataKeys[r.id] = dataKey{algorithm: r.algorithm, key: string(pt), active: r.status == statusActive}
		}
	}
	if l := legacyRow(rows); l != nil {
		if dk, ok := kr.dataKeys[l.id]; ok {
			kr.legacy = dk.key
		}
	}
	return kr, failed
}

// decrypt decrypts one stored value with the keyring and checks the
// plaintext's shape.
func (kr keyring) decrypt(v cipher.Value, s shape) ([]byte, error) {
	var pt []byte
	var err error
	switch v.Format {
	case cipher.FormatCBC:
		pt, err = cipher.DecryptCBC(kr.legacy, v.Body)
	case cipher.FormatPrefixed:
		dk, ok := kr.dataKeys[v.KeyID]
		if !ok {
			return nil, fmt.Errorf("data key %s is unknown or not readable with this key", v.KeyID)
		}
		if dk.algorithm == algCBC {
			pt, err = cipher.DecryptCBC(dk.key, v.Body)
		} else {
			pt, err = cipher.DecryptGCM(dk.key, v.Body)
		}
	default:
		return nil, errors.New("not an encrypted value")
	}
	if err != nil {
		return nil, err
	}
	if !s.ok(pt) {
		return nil, cipher.ErrDecrypt
	}
	return pt, nil
}

// Signing secrets n8n 2.x seeds from the instance key (n8n's
// instance-settings and binary-data config): what regenerating them makes.
func signingSecret(typ, key string) []byte {
	switch typ {
	case typeHMAC:
		sum := sha256.Sum256([]byte("hmac-signature:" + key))
		return []byte(hex.EncodeToString(sum[:]))
	case typeJWT:
		// SHA-256 of every second UTF-16 unit of the key, from the first
		// (JwtService); Node hashes the string as UTF-8.
		units := utf16.Encode([]rune(key))
		var even []uint16
		for i := 0; i < len(units); i += 2 {
			even = append(even, units[i])
		}
		sum := sha256.Sum256([]byte(string(utf16.Decode(even))))
		return []byte(hex.EncodeToString(sum[:]))
	case typeBinaryData:
		sum := sha256.Sum256([]byte("url-signing:" + key))
		return []byte(base64.StdEncoding.EncodeToString(sum[:]))
	}
	return nil
}

// newKeyID returns a 16-character id of n8n's alphabet (nanoid's) that
// starts with prefix (at most a few characters of an existing id).
func newKeyID(prefix string) (string, error) {
	const alphabet = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
	if len(prefix) >= 16 {
		return "", errors.New("rekey: a key id prefix too long")
	}
	b := make([]byte, 16-len(prefix))
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("rekey: no randomness for a key id")
	}
	for i := range b {
		b[i] = alphabet[b[i]&63]
	}
	return prefix + string(b), nil
}

// newDataKey returns 32 random bytes as 64 hex digits, as n8n makes them.
func newDataKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("rekey: no randomness for a data key")
	}
	return hex.EncodeToString(b), nil
}
