package audit

import (
	"strings"
)

// secretNames are variables that always hold secrets.
var secretNames = map[string]bool{
	"N8N_ENCRYPTION_KEY":    true,
	"AWS_SECRET_ACCESS_KEY": true,
	"AWS_SESSION_TOKEN":     true,
	"VAULT_TOKEN":           true,
	"VAULT_SECRET_ID":       true,
	"VAULT_ROLE_ID":         false, // an identifier; the secret id is the secret
}

// secretSuffixes mark variables that hold secrets by convention.
var secretSuffixes = []string{
	"_PASSWORD", "_PASSWD", "_PASS", "_TOKEN", "_API_KEY", "_APIKEY",
	"_SECRET", "_SECRET_KEY", "_PRIVATE_KEY", "_CLIENT_SECRET", "_AUTH_TOKEN",
}

// notSecretSuffixes end names that merely configure a secret.
var notSecretSuffixes = []string{
	"_FILE", "_PATH", "_DIR", "_TTL", "_EXPIRY", "_EXPIRES", "_LENGTH", "_NAME",
	"_HEADER", "_URL", "_URI", "_ENABLED", "_TYPE", "_MODE", "_FINGERPRINT",
}

// isSecretName reports whether a variable is meant to hold a secret: one
// n8n's own configuration declares as one (n8nSecretVars, read from the
// real n8n), or one named like a secret (*_PASSWORD, *_TOKEN, *_API_KEY
// and the like) for the other services of a deployment. The injector's own
// settings are not.
func isSecretName(name string) bool {
	name = strings.ToUpper(name)
	if _, ok := n8nSecretVars[name]; ok {
		return true
	}
	if _, ok := n8nPublicVars[name]; ok {
		return false
	}
	return namedLikeSecret(name)
}

// namedLikeSecret reports whether a name (upper case) says it holds a
// secret, by the conventions of the field.
func namedLikeSecret(name string) bool {
	if v, ok := secretNames[name]; ok {
		return v
	}
	if strings.HasPrefix(name, "N8N_SECRETS_") {
		return false
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	switch name {
	case "PASSWORD", "PASS", "PASSWD", "TOKEN", "SECRET", "API_KEY", "APIKEY", "SECRET_KEY", "PRIVATE_KEY":
		return true
	}
	return false
}

// secretFileNames are file names that hold secrets when copied into an
// image.
var secretFileNames = []string{
	".env", "id_rsa", "id_ed25519", "id_ecdsa", "vault_token", "vault_secret_id",
	"credentials", ".npmrc", ".netrc", ".pgpass",
}

// secretFileParts mark file names that look like secrets.
var secretFileParts = []string{"secret", "password", "passwd", "token", "encryption_key", "encryption-key", "private_key", "private-key"}

// secretFileExts are extensions of key material.
var secretFileExts = []string{".pem", ".key", ".p12", ".pfx", ".jks"}

// looksLikeSecretFile reports whether a COPY or ADD source looks like a
// secret.
func looksLikeSecretFile(src string) bool {
	base := strings.ToLower(src)
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	// The injector's own binary is no secret.
	base = strings.ReplaceAll(base, "n8n-secrets", "")
	if base == "" || base == "." || base == "*" {
		return false
	}
	for _, n := range secretFileNames {
		if base == n || strings.HasPrefix(base, ".env.") {
			return true
		}
	}
	for _, e := range secretFileExts {
		if strings.HasSuffix(base, e) {
			return true
		}
	}
	for _, p := range secretFileParts {
		if strings.Contains(base, p) {
			return true
		}
	}
	return false
}

// isTrue reads a boolean setting as n8n-secrets and Vault's client do.
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// isFalse reads an explicit false.
func isFalse(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "false", "no", "off":
		return true
	}
	return false
}
