package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
)

// settingsKeyField is the settings file's field that holds the key.
const settingsKeyField = "encryptionKey"

// SettingsPath returns the settings file n8n reads for env:
// <N8N_USER_FOLDER or HOME>/.n8n/config, or ./.n8n/config when neither is
// set. As in n8n (getN8nFolder: N8N_USER_FOLDER ?? HOME ?? cwd), a set but
// empty N8N_USER_FOLDER also means the current directory. A relative result
// is made absolute against the current directory, which the exec'd n8n
// inherits.
func SettingsPath(env map[string]string) (string, error) {
	home, ok := env[EnvUserFolder]
	if !ok {
		home = env["HOME"] // unset too: "" joins to the current directory
	}
	p := filepath.Join(home, ".n8n", "config")
	if filepath.IsAbs(p) {
		return p, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("n8n: locate the settings file: %w", err)
	}
	return abs, nil
}

// settingsField is one top-level field of the settings file, its value kept
// as written.
type settingsField struct {
	name  string
	value json.RawMessage
}

// settingsDoc is a parsed settings file: its top-level fields in file order.
type settingsDoc struct {
	fields []settingsField
}

// errSettings is a parse error whose text is fixed by this package: it never
// quotes the file's content (encoding/json's errors quote the offending
// character, which may belong to a key).
type errSettings string

func (e errSettings) Error() string { return string(e) }

// safeJSONError turns a decoding error into an errSettings.
func safeJSONError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return errSettings(fmt.Sprintf("not valid JSON (syntax error at byte %d)", se.Offset))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errSettings("not valid JSON (unexpected end of file)")
	default:
		return errSettings("not valid JSON")
	}
}

// parseSettings parses a settings file as n8n does (JSON.parse, then reads
// fields of the object). It accepts exactly one JSON object and nothing
// else; errors never contain the file's content.
func parseSettings(data []byte) (*settingsDoc, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errSettings("empty")
		}
		return nil, safeJSONError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errSettings("not a JSON object")
	}
	doc := &settingsDoc{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, safeJSONError(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errSettings("not valid JSON")
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, safeJSONError(err)
		}
		doc.fields = append(doc.fields, settingsField{name: name, value: value})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, safeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errSettings("not valid JSON (data after the object)")
	}
	return doc, nil
}

// key returns the encryptionKey as n8n reads it (the last occurrence wins,
// as in JSON.parse). ok is false when the field is absent or not a string.
func (d *settingsDoc) key() (key string, ok bool) {
	for i := len(d.fields) - 1; i >= 0; i-- {
		if d.fields[i].name == settingsKeyField {
			err := json.Unmarshal(d.fields[i].value, &key)
			return key, err == nil
		}
	}
	return "", false
}

// withKey returns a copy of d whose encryptionKey is key, as n8n would
// write the object JSON.parse gave it: each field once, where it first
// appeared, with its last value; encryptionKey first when it was absent,
// where n8n puts it.
func (d *settingsDoc) withKey(key string) (*settingsDoc, error) {
	value, err := marshalString(key)
	if err != nil {
		return nil, err
	}
	out := &settingsDoc{fields: make([]settingsField, 0, len(d.fields)+1)}
	at := make(map[string]int, len(d.fields)+1)
	if !slices.ContainsFunc(d.fields, func(f settingsField) bool { return f.name == settingsKeyField }) {
		at[settingsKeyField] = 0
		out.fields = append(out.fields, settingsField{name: settingsKeyField})
	}
	for _, f := range d.fields {
		if i, ok := at[f.name]; ok {
			out.fields[i].value = f.value
			continue
		}
		at[f.name] = len(out.fields)
		out.fields = append(out.fields, f)
	}
	out.fields[at[settingsKeyField]].value = value
	return out, nil
}

// render writes d as n8n does, JSON.stringify(settings, null, "\t"): one
// field per line indented with a tab, nested values indented with more
// tabs, ": " after names, no newline at the end.
func (d *settingsDoc) render() ([]byte, error) {
	if len(d.fields) == 0 {
		return []byte("{}"), nil
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, f := range d.fields {
		name, err := marshalString(f.name)
		if err != nil {
			return nil, err
		}
		b.WriteByte('\t')
		b.Write(name)
		b.WriteString(": ")
		if err := json.Indent(&b, bytes.TrimSpace(f.value), "\t", "\t"); err != nil {
			return nil, safeJSONError(err)
		}
		if i < len(d.fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalString encodes s as a JSON string without HTML escaping, as
// JSON.stringify does.
func marshalString(s string) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, errSettings("cannot encode a string")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
