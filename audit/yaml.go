package audit

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"
)

// YAML helpers over yaml.Node, which keeps the line and column of every
// key and value. Aliases are followed to their anchor (so a value defined
// under an anchor is reported where it is written) and merge keys (<<) are
// applied as YAML 1.1 defines them.

// yamlDocs parses every document of a YAML stream. Line numbers are the
// stream's, so they are right in multi-document files.
func yamlDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if root := deref(&n); root != nil && root.Kind != 0 {
			docs = append(docs, root)
		}
	}
}

// deref follows aliases and document nodes to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns the entries of a mapping with merge keys applied: explicit
// keys win over merged ones, and of several merged mappings the first that
// has a key wins. Values are dereferenced; keys keep their own position.
func pairs(n *yaml.Node) []pair {
	return mergePairs(n, map[*yaml.Node]bool{})
}

// mergePairs collects a mapping's entries; seen holds the mappings already
// taken, so that a mapping merged into itself, or twice, cannot make the
// walk loop or grow exponentially.
func mergePairs(n *yaml.Node, seen map[*yaml.Node]bool) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || seen[n] {
		return nil
	}
	seen[n] = true
	var out, merged []pair
	keys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			src := deref(v)
			switch {
			case src == nil:
			case src.Kind == yaml.MappingNode:
				merged = append(merged, mergePairs(src, seen)...)
			case src.Kind == yaml.SequenceNode:
				for _, m := range src.Content {
					merged = append(merged, mergePairs(m, seen)...)
				}
			}
			continue
		}
		keys[k.Value] = true
		out = append(out, pair{k, deref(v)})
	}
	for _, p := range merged {
		if !keys[p.key.Value] {
			keys[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// get returns the value of key in a mapping (merge keys applied), or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	for _, p := range pairs(n) {
		if p.key.Value == key {
			return p.val
		}
	}
	return nil
}

// getKey returns the key node and value of key in a mapping, or nils.
func getKey(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for _, p := range pairs(n) {
		if p.key.Value == key {
			return p.key, p.val
		}
	}
	return nil, nil
}

// dig follows keys through nested mappings.
func dig(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
		if n == nil {
			return nil
		}
	}
	return n
}

// scalar returns a scalar's text; ok is false for anything else, and for
// null.
func scalar(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// str returns a scalar's text or "".
func str(n *yaml.Node) string {
	s, _ := scalar(n)
	return s
}

// items returns the elements of a sequence, dereferenced.
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, e := range n.Content {
		if d := deref(e); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// words returns a string (split on white space) or a list of scalars, as
// Compose reads command and entrypoint; set is false when n is absent.
func words(n *yaml.Node) (ws []string, set bool) {
	n = deref(n)
	if n == nil {
		return nil, false
	}
	if s, ok := scalar(n); ok {
		return splitWords(s), true
	}
	for _, e := range items(n) {
		ws = append(ws, str(e))
	}
	return ws, n.Kind == yaml.SequenceNode
}

// at returns the position of a node in file.
func at(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}
