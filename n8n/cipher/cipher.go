// Package cipher implements the two ciphers n8n uses for what it stores
// encrypted in its database, as pure functions tested against vectors made
// by n8n itself (n8n-core 1.123 and 2.40):
//
//   - CBC, the legacy format of every n8n version: base64("Salted__" ‖
//     salt[8] ‖ AES-256-CBC ciphertext), key and IV from OpenSSL's
//     EVP_BytesToKey with MD5 over the key's "binary" (latin1) bytes and the
//     salt (n8n-core src/encryption/cipher.ts and aes-256-cbc.ts).
//   - GCM, n8n 2.x's format for data keys and prefixed values:
//     base64(0x01 ‖ salt[32] ‖ tag[16] ‖ ciphertext), AES-256-GCM with key
//     and nonce from HKDF-SHA256(32-byte key, salt, "n8n-encryption-v1", 44)
//     (n8n-core src/encryption/aes-256-gcm.ts). Data keys (DEKs) are stored
//     in the deployment_key table wrapped with GCM under
//     hex(SHA-256(instance key)); see Wrap and Unwrap.
//
// Errors never contain a key, a ciphertext or a plaintext.
package cipher

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/md5" //nolint:gosec // n8n's legacy format: EVP_BytesToKey with MD5
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrDecrypt is wrapped by every decryption failure: a wrong key, a
// damaged value, or a value in another format.
var ErrDecrypt = errors.New("cipher: cannot decrypt")

// CBCPrefix starts every CBC value n8n stores: base64 of "Salted__".
const CBCPrefix = "U2FsdGVkX1"

var salted = []byte("Salted__")

// latin1 returns the bytes Node's Buffer.from(s, "binary") makes of the
// JavaScript string s: the low byte of each UTF-16 code unit.
func latin1(key string) []byte {
	units := utf16.Encode([]rune(key))
	b := make([]byte, len(units))
	for i, u := range units {
		b[i] = byte(u)
	}
	return b
}

// evpKeyIV is OpenSSL's EVP_BytesToKey(MD5, one round) for AES-256-CBC:
// 32 bytes of key and 16 of IV.
func evpKeyIV(password, salt []byte) (key, iv []byte) {
	pw := append(append([]byte{}, password...), salt...)
	var out, prev []byte
	for len(out) < 48 {
		h := md5.New() //nolint:gosec
		h.Write(prev)
		h.Write(pw)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	return out[:32], out[32:48]
}

// EncryptCBC encrypts plaintext under key the way n8n's Cipher.encrypt does,
// with a fresh random salt.
func EncryptCBC(key string, plaintext []byte) (string, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return "", errors.New("cipher: no randomness for a salt")
	}
	k, iv := evpKeyIV(latin1(key), salt)
	block, err := aes.NewCipher(k)
	if err != nil {
		return "", errors.New("cipher: aes setup failed")
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, 16+len(plaintext)+pad)
	copy(buf, salted)
	copy(buf[8:], salt)
	copy(buf[16:], plaintext)
	for i := 16 + len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf[16:], buf[16:])
	return base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptCBC decrypts a CBC value under key. Unlike n8n, which returns ""
// for an input shorter than 16 bytes and whatever bytes a wrong key gives
// when the padding happens to look right, it fails with ErrDecrypt unless
// the padding is valid and the plaintext is valid UTF-8: n8n only stores
// text it got from JSON.stringify or from strings. A wrong key still passes
// these checks for about one value in 2^20 or less; callers that must tell
// keys apart check the plaintext's shape too.
func DecryptCBC(key, value string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(raw) < 32 || !bytes.Equal(raw[:8], salted) || (len(raw)-16)%aes.BlockSize != 0 {
		return nil, ErrDecrypt
	}
	k, iv := evpKeyIV(latin1(key), raw[8:16])
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, ErrDecrypt
	}
	out := make([]byte, len(raw)-16)
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, raw[16:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return nil, ErrDecrypt
	}
	for _, p := range out[len(out)-pad:] {
		if int(p) != pad {
			return nil, ErrDecrypt
		}
	}
	out = out[:len(out)-pad]
	if !utf8.Valid(out) {
		return nil, ErrDecrypt
	}
	return out, nil
}

const (
	gcmVersion = 0x01
	gcmSaltLen = 32
	gcmTagLen  = 16
	gcmHeader  = 1 + gcmSaltLen + gcmTagLen
	hkdfInfo   = "n8n-encryption-v1"
)

// gcmKey decodes a GCM key: 64 hex digits (32 bytes), as n8n requires.
func gcmKey(keyHex string) ([]byte, error) {
	k, err := hex.DecodeString(keyHex)
	if err != nil || len(k) != 32 {
		return nil, errors.New("cipher: a GCM key must be 64 hex digits")
	}
	return k, nil
}

func gcmAEAD(key, salt []byte) (cipher.AEAD, []byte, error) {
	derived, err := hkdf.Key(sha256.New, key, salt, hkdfInfo, 44)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(derived[:32])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, derived[32:44], nil
}

// EncryptGCM encrypts plaintext under keyHex (64 hex digits) the way
// n8n-core's CipherAes256GCM.encrypt does, with a fresh random salt.
func EncryptGCM(keyHex string, plaintext []byte) (string, error) {
	key, err := gcmKey(keyHex)
	if err != nil {
		return "", err
	}
	buf := make([]byte, gcmHeader, gcmHeader+len(plaintext)+gcmTagLen)
	buf[0] = gcmVersion
	if _, err := rand.Read(buf[1 : 1+gcmSaltLen]); err != nil {
		return "", errors.New("cipher: no randomness for a salt")
	}
	aead, nonce, err := gcmAEAD(key, buf[1:1+gcmSaltLen])
	if err != nil {
		return "", errors.New("cipher: gcm setup failed")
	}
	sealed := aead.Seal(nil, nonce, plaintext, nil) // ciphertext ‖ tag
	ct, tag := sealed[:len(plaintext)], sealed[len(plaintext):]
	copy(buf[1+gcmSaltLen:], tag)
	buf = append(buf, ct...)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptGCM decrypts a GCM value under keyHex. The authentication tag
// makes a wrong key fail with ErrDecrypt, always.
func DecryptGCM(keyHex, value string) ([]byte, error) {
	key, err := gcmKey(keyHex)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(raw) < gcmHeader || raw[0] != gcmVersion {
		return nil, ErrDecrypt
	}
	aead, nonce, err := gcmAEAD(key, raw[1:1+gcmSaltLen])
	if err != nil {
		return nil, ErrDecrypt
	}
	sealed := append(append([]byte{}, raw[gcmHeader:]...), raw[1+gcmSaltLen:gcmHeader]...)
	out, err := aead.Open(nil, nonce, sealed, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// WrappingKey returns the key n8n 2.x wraps data keys with:
// hex(SHA-256(UTF-8 bytes of the instance key)) (Cipher.dekWrappingKey).
func WrappingKey(instanceKey string) string {
	sum := sha256.Sum256([]byte(instanceKey))
	return hex.EncodeToString(sum[:])
}

// Wrap encrypts a deployment_key value under the instance key, as n8n's
// Cipher.encryptDEKWithInstanceKey does.
func Wrap(instanceKey string, plaintext []byte) (string, error) {
	return EncryptGCM(WrappingKey(instanceKey), plaintext)
}

// Unwrap decrypts a deployment_key value wrapped under the instance key.
func Unwrap(instanceKey, wrapped string) ([]byte, error) {
	return DecryptGCM(WrappingKey(instanceKey), wrapped)
}
