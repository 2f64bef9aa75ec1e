package rekey

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// shape is what a plaintext must look like at a location. It tells a right
// key from a wrong one that happened to give valid CBC padding.
type shape int

const (
	shapeText shape = iota // any UTF-8 text
	shapeJSON              // JSON text (n8n wrote JSON.stringify's output)
)

func (s shape) ok(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	if s == shapeJSON {
		return json.Valid(b)
	}
	return true
}

// layout is how encrypted values sit in a column.
type layout int

const (
	whole  layout = iota // the column is one encrypted value
	commas               // TypeORM simple-array: encrypted values joined with ","
	fields               // a JSON object whose named string fields are encrypted
)

// location is one place n8n stores encrypted values (docs/n8n-encrypted-data.md
// has the list with n8n's sources).
type location struct {
	name       string // as reports show it
	table      string // n8n's table name, without DB_TABLE_PREFIX
	key        []string
	column     string
	settingKey string // table settings: the row's key
	layout     layout
	fields     []string // layout fields
	shape      shape
}

// inventory lists every location, in the order they are processed.
// deployment_key is handled apart (keys.go); values inside execution data
// are counted, not rekeyed (see execution).
var inventory = []location{
	{name: "credentials_entity.data", table: "credentials_entity", key: []string{"id"}, column: "data", shape: shapeJSON},
	{name: "user.mfaSecret", table: "user", key: []string{"id"}, column: "mfaSecret", shape: shapeText},
	{name: "user.mfaRecoveryCodes", table: "user", key: []string{"id"}, column: "mfaRecoveryCodes", layout: commas, shape: shapeText},
	{name: "settings features.sourceControl.sshKeys", table: "settings", key: []string{"key"}, column: "value", settingKey: "features.sourceControl.sshKeys", layout: fields, fields: []string{"encryptedPrivateKey"}, shape: shapeText},
	{name: "settings features.sourceControl.httpsCredentials", table: "settings", key: []string{"key"}, column: "value", settingKey: "features.sourceControl.httpsCredentials", layout: fields, fields: []string{"encryptedUsername", "encryptedPassword"}, shape: shapeText},
	{name: "settings features.ldap", table: "settings", key: []string{"key"}, column: "value", settingKey: "features.ldap", layout: fields, fields: []string{"bindingAdminPassword"}, shape: shapeText},
	{name: "settings features.oidc", table: "settings", key: []string{"key"}, column: "value", settingKey: "features.oidc", layout: fields, fields: []string{"clientSecret"}, shape: shapeText},
	{name: "settings features.saml", table: "settings", key: []string{"key"}, column: "value", settingKey: "features.saml", layout: fields, fields: []string{"signingPrivateKey"}, shape: shapeText},
	{name: "settings feature.externalSecrets", table: "settings", key: []string{"key"}, column: "value", settingKey: "feature.externalSecrets", shape: shapeJSON},
	{name: "settings credentialsOverwrite", table: "settings", key: []string{"key"}, column: "value", settingKey: "credentialsOverwrite", shape: shapeJSON},
	{name: "secrets_provider_connection.encryptedSettings", table: "secrets_provider_connection", key: []string{"id"}, column: "encryptedSettings", shape: shapeJSON},
	{name: "promotion_provider.auth", table: "promotion_provider", key: []string{"id"}, column: "auth", shape: shapeJSON},
	{name: "dynamic_credential_resolver.config", table: "dynamic_credential_resolver", key: []string{"id"}, column: "config", shape: shapeJSON},
	{name: "dynamic_credential_user_entry.data", table: "dynamic_credential_user_entry", key: []string{"credentialId", "userId", "resolverId"}, column: "data", shape: shapeJSON},
	{name: "dynamic_credential_entry.data", table: "dynamic_credential_entry", key: []string{"credential_id", "subject_id", "resolver_id"}, column: "data", shape: shapeJSON},
}

// part is one encrypted value found in a column, and where it sits.
type part struct {
	field string // layout fields: the JSON field; commas: the element's index as text
	value string
}

// split returns the encrypted-looking values of a column's text, in order.
// Values that are empty or do not look encrypted (an LDAP password left
// empty, "" recovery codes) are not parts. ok is false when the text does
// not parse as the layout expects (a settings row that is not JSON).
func (l location) split(text string) (parts []part, ok bool) {
	switch l.layout {
	case whole:
		if text == "" {
			return nil, true
		}
		return []part{{value: text}}, true
	case commas:
		if text == "" {
			return nil, true
		}
		for i, v := range strings.Split(text, ",") {
			parts = append(parts, part{field: strconv.Itoa(i), value: v})
		}
		return parts, true
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		return nil, false
	}
	for _, f := range l.fields {
		raw, found := obj[f]
		if !found {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			continue
		}
		parts = append(parts, part{field: f, value: s})
	}
	return parts, true
}

// join writes parts back into the column's text, replacing each old value
// by its new one: for JSON fields by replacing the quoted old string, so
// that the rest of the row stays byte for byte as n8n wrote it (base64 and
// key ids need no JSON escaping).
func (l location) join(text string, old, new []part) string {
	switch l.layout {
	case whole:
		return new[0].value
	case commas:
		elems := strings.Split(text, ",")
		for _, p := range new {
			i, _ := strconv.Atoi(p.field)
			elems[i] = p.value
		}
		return strings.Join(elems, ",")
	}
	for i := range new {
		text = strings.Replace(text, `"`+old[i].value+`"`, `"`+new[i].value+`"`, 1)
	}
	return text
}
