package audit

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML helpers over yaml.Node, which keeps the line and column of every
// key and value. Aliases are followed to their anchor (so a value defined
// under an anchor is reported where it is written) and merge keys (<<) are
// applied as YAML 1.1 defines them.

// yamlDocs parses every document of a YAML stream. Line numbers are the
// stream's, so they are right in multi-document files. Errors are
// *parseError values: the line and the kind of problem in our words, never
// yaml's own text (which quotes an alias's name, and an alias name can be a
// password). Documents whose aliases expand beyond what Kubernetes' own
// decoder accepts are refused (see checkAliases).
func yamlDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	budget := aliasBudget{}
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, yamlError(err, data)
		}
		if err := budget.check(&n); err != nil {
			return docs, err
		}
		if root := deref(&n); root != nil && root.Kind != 0 {
			docs = append(docs, root)
		}
	}
}

// yamlKinds are the problems yaml reports, by a phrase of its message, in
// our words. yaml's phrases are fixed text, but its messages can also
// quote the input (an alias's name), so only these phrases pass, as ours.
var yamlKinds = []struct{ phrase, kind string }{
	{"unknown anchor", "an alias to an anchor that is not defined"},
	{"did not find expected key", "a mapping key is missing or indented wrongly"},
	{"mapping values are not allowed", "a colon where no mapping may start (indentation, or a value to quote)"},
	{"could not find expected ':'", "a mapping key without its colon"},
	{"cannot start any token", "a character that cannot start a YAML token"},
	{"did not find expected node content", "a value is missing"},
	{"did not find expected '-' indicator", "a list item indented wrongly"},
	{"block sequence entries are not allowed", "a list item where none may start"},
	{"did not find expected ',' or ']'", "a flow list that is not closed"},
	{"did not find expected ',' or '}'", "a flow mapping that is not closed"},
	{"found unexpected end of stream", "the file ends inside a value (a quote or bracket not closed)"},
	{"tab character", "a tab where YAML needs spaces"},
	{"unknown escape character", "an invalid escape in a double-quoted string"},
	{"comment or line break", "text after a value where only a comment may follow"},
	{"document indicator", "a document marker inside a value"},
	{"undefined tag handle", "a tag whose handle is not defined"},
	{"exceeded max depth", "nesting deeper than YAML's limit"},
	{"control characters", "a character YAML does not allow"},
	{"UTF-8", "invalid UTF-8"},
	{"UTF-16", "invalid UTF-16"},
	{"Unicode", "an invalid Unicode character"},
}

// yamlLineRe finds the line in a yaml error.
var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlAnchorRe finds the alias name in yaml's "unknown anchor" message,
// to locate the alias (the name itself is never output).
var yamlAnchorRe = regexp.MustCompile(`unknown anchor '(.*)' referenced`)

// yamlError turns a yaml parse error into a *parseError.
func yamlError(err error, data []byte) error {
	msg := err.Error()
	line := 0
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	if m := yamlAnchorRe.FindStringSubmatch(msg); m != nil && line == 0 {
		line = aliasLine(data, m[1])
	}
	for _, k := range yamlKinds {
		if strings.Contains(msg, k.phrase) {
			return lineErr(line, k.kind)
		}
	}
	return lineErr(line, "invalid YAML")
}

// aliasLine returns the line of the first alias *name in data, or 0.
func aliasLine(data []byte, name string) int {
	needle := []byte("*" + name)
	for off := 0; off < len(data); {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return 0
		}
		end := off + i + len(needle)
		if end == len(data) || !isAnchorChar(data[end]) {
			return bytes.Count(data[:off+i], []byte("\n")) + 1
		}
		off = end
	}
	return 0
}

func isAnchorChar(c byte) bool {
	return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != ']' && c != '}' && c != '[' && c != '{'
}

// Limits on alias expansion. A YAML alias stands for its whole anchor, so
// a few aliases of aliases stand for billions of nodes. Kubernetes' decoder
// (sigs.k8s.io/yaml over yaml.v2) refuses a document in which more than
// 99 % of the decoded nodes come from aliases (the share falls to 10 %
// between 400,000 and 4,000,000 decoded nodes) once it has decoded more
// than 1,000 nodes of which more than 100 through aliases. The audit
// applies the same rule to the nodes it could reach, computed without
// expanding anything, and also caps a file at maxExpandedNodes.
const (
	aliasRatioLow    = 400_000
	aliasRatioHigh   = 4_000_000
	maxExpandedNodes = 1_000_000
)

// allowedAliasShare is the share of decoded nodes that may come from
// aliases in a document of total decoded nodes.
func allowedAliasShare(total int64) float64 {
	switch {
	case total <= aliasRatioLow:
		return 0.99
	case total >= aliasRatioHigh:
		return 0.10
	}
	return 0.99 - 0.89*float64(total-aliasRatioLow)/float64(aliasRatioHigh-aliasRatioLow)
}

// aliasBudget counts, across the documents of one file, the nodes the
// documents stand for once aliases are expanded.
type aliasBudget struct{ total int64 }

// expansion is a node's size once aliases are expanded: all of it, and
// the part reached through aliases.
type expansion struct{ total, aliased int64 }

// saturate keeps sizes from overflowing: anything past it is refused.
const saturate = int64(1) << 50

// check refuses a document whose aliases expand beyond the limits, or
// that holds an alias to an anchor that contains it.
func (b *aliasBudget) check(doc *yaml.Node) error {
	memo := map[*yaml.Node]expansion{}
	inProgress := map[*yaml.Node]bool{}
	cyclic := false
	var size func(n *yaml.Node) expansion
	size = func(n *yaml.Node) expansion {
		if n == nil {
			return expansion{}
		}
		if e, ok := memo[n]; ok {
			return e
		}
		if inProgress[n] {
			cyclic = true
			return expansion{saturate, saturate}
		}
		inProgress[n] = true
		var e expansion
		if n.Kind == yaml.AliasNode {
			t := size(n.Alias)
			e = expansion{t.total, t.total}
		} else {
			e.total = 1
			for _, c := range n.Content {
				ce := size(c)
				e.total = min(e.total+ce.total, saturate)
				e.aliased = min(e.aliased+ce.aliased, saturate)
			}
		}
		delete(inProgress, n)
		memo[n] = e
		return e
	}
	e := size(doc)
	if cyclic {
		return lineErr(doc.Line, "an alias to an anchor that contains it")
	}
	b.total = min(b.total+e.total, saturate)
	if b.total > maxExpandedNodes ||
		(e.total > 1000 && e.aliased > 100 && float64(e.aliased)/float64(e.total) > allowedAliasShare(e.total)) {
		return lineErr(doc.Line, "aliases that expand to too many nodes (Kubernetes' decoder refuses them too)")
	}
	return nil
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
