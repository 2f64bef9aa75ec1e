package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Select applies the selector of ref to p and returns the value for the
// variable:
//
//   - no selector: the whole value, or for an Object payload the value of
//     its only key (an error naming the keys, never values, when it has
//     several);
//   - "key": that top-level key of a JSON object;
//   - "/a/b": the RFC 6901 JSON pointer.
//
// A selected string is taken as is; any other JSON value (number, bool,
// object, array) as its compact JSON text. A JSON null counts as a missing
// key (ErrKeyNotFound, so that optional=true removes the variable), never
// as the text "null". Errors wrap ErrKeyNotFound or ErrBadData and never
// contain a value.
func Select(p Payload, ref Reference) (Secret, error) {
	if ref.Selector == "" && !p.Object {
		return p.Value, nil
	}
	doc, err := decodeJSON(p.Value.Reveal())
	if err != nil {
		return Secret{}, err
	}
	if ref.Selector == "" {
		obj, ok := doc.(map[string]any)
		if !ok {
			return Secret{}, fmt.Errorf("%w: secret is not a key-value object", ErrBadData)
		}
		if len(obj) != 1 {
			return Secret{}, fmt.Errorf("%w: secret has %d keys (%s): choose one with #key",
				ErrKeyNotFound, len(obj), keyList(obj))
		}
		for k, v := range obj {
			if v == nil {
				return Secret{}, fmt.Errorf("%w: the secret's only key %q is null", ErrKeyNotFound, short(k))
			}
			doc = v
		}
		return valueOf(doc)
	}
	if !ref.IsPointer() {
		obj, ok := doc.(map[string]any)
		if !ok {
			return Secret{}, fmt.Errorf("%w: selector #%s needs a JSON object", ErrBadData, short(ref.Selector))
		}
		v, ok := obj[ref.Selector]
		if !ok {
			return Secret{}, fmt.Errorf("%w: no key %q (keys: %s)", ErrKeyNotFound, short(ref.Selector), keyList(obj))
		}
		if v == nil {
			return Secret{}, fmt.Errorf("%w: key %q is null", ErrKeyNotFound, short(ref.Selector))
		}
		return valueOf(v)
	}
	cur := doc
	for _, tok := range strings.Split(ref.Selector[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return Secret{}, fmt.Errorf("%w: JSON pointer %s: no key %q", ErrKeyNotFound, short(ref.Selector), short(tok))
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || strconv.Itoa(i) != tok {
				return Secret{}, fmt.Errorf("%w: JSON pointer %s: no index %q in an array of %d", ErrKeyNotFound, short(ref.Selector), short(tok), len(c))
			}
			cur = c[i]
		default:
			return Secret{}, fmt.Errorf("%w: JSON pointer %s: cannot descend into a scalar", ErrKeyNotFound, short(ref.Selector))
		}
	}
	if cur == nil {
		return Secret{}, fmt.Errorf("%w: JSON pointer %s: the value is null", ErrKeyNotFound, short(ref.Selector))
	}
	return valueOf(cur)
}

// decodeJSON parses b keeping numbers as written. The error says what is
// wrong without quoting the input.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: value is not valid JSON (a selector needs JSON)", ErrBadData)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: value holds more than one JSON document", ErrBadData)
	}
	return v, nil
}

func valueOf(v any) (Secret, error) {
	if s, ok := v.(string); ok {
		return NewSecret([]byte(s)), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return Secret{}, fmt.Errorf("%w: cannot encode the selected value", ErrBadData)
	}
	return NewSecret(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// keyList names the keys of obj, sorted, for an error message. Key names
// are not secret; values never appear.
func keyList(obj map[string]any) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, short(k))
	}
	sort.Strings(keys)
	if len(keys) > 10 {
		keys = append(keys[:10], "…")
	}
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
