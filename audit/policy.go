package audit

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
	hcltoken "github.com/hashicorp/hcl/hcl/token"
)

// policyRule is one path block of a Vault ACL policy.
type policyRule struct {
	path    string
	caps    []string
	pos     Pos // of the path label
	capsPos Pos // of the capabilities (or policy) attribute
}

// vaultPolicy is a parsed Vault ACL policy.
type vaultPolicy struct {
	file  string
	rules []policyRule
}

// legacyPolicy maps the old `policy = "…"` shorthand to capabilities.
var legacyPolicy = map[string][]string{
	"deny":  {"deny"},
	"read":  {"read", "list"},
	"write": {"create", "read", "update", "delete", "list"},
	"sudo":  {"create", "read", "update", "delete", "list", "sudo"},
}

// maxHCLDepth bounds the nesting of brackets and braces in an HCL file:
// HCL's parser recurses once per level, and a policy needs three.
const maxHCLDepth = 64

// parseVaultPolicy parses a Vault ACL policy with the parser Vault itself
// uses (hashicorp/hcl, version 1: HCL or JSON). As Vault does, it accepts
// for capabilities only a list of string literals, and for policy a string:
// HCL 1 has no expressions, so nothing in a policy is evaluated and its
// cost is linear in its size. isPolicy is false for HCL that holds no path
// block (a Vault server configuration, a docker-bake file), which is not
// audited; a file that does not parse counts as a policy when a line of it
// starts a path block. Errors name the line and the kind of problem, never
// the text.
func parseVaultPolicy(file string, data []byte) (pol *vaultPolicy, isPolicy bool, err error) {
	if line := hclTooDeep(data); line > 0 {
		return nil, looksLikePolicy(data), lineErr(line, "brackets nested too deep")
	}
	root, perr := hcl.ParseBytes(data)
	if perr != nil {
		return nil, looksLikePolicy(data), hclError(perr)
	}
	list, ok := root.Node.(*ast.ObjectList)
	if !ok {
		return nil, false, nil
	}
	pol = &vaultPolicy{file: file}
	for _, item := range list.Items {
		if len(item.Keys) == 0 || keyText(item.Keys[0]) != "path" {
			continue
		}
		isPolicy = true
		if len(item.Keys) != 2 {
			return nil, true, lineErr(item.Keys[0].Pos().Line, "a path block takes one label, the path")
		}
		obj, ok := item.Val.(*ast.ObjectType)
		if !ok {
			return nil, true, lineErr(item.Keys[0].Pos().Line, "a path block must be a block")
		}
		r := policyRule{path: keyText(item.Keys[1]), pos: hclPos(file, item.Keys[1].Pos())}
		r.capsPos = r.pos
		for _, attr := range obj.List.Items {
			if len(attr.Keys) == 0 {
				continue
			}
			switch keyText(attr.Keys[0]) {
			case "capabilities":
				caps, err := stringList(attr.Val)
				if err != nil {
					return nil, true, lineErr(attr.Keys[0].Pos().Line, "capabilities "+err.Error())
				}
				r.caps, r.capsPos = append(r.caps, caps...), hclPos(file, attr.Keys[0].Pos())
			case "policy":
				s, ok := stringLit(attr.Val)
				if !ok {
					return nil, true, lineErr(attr.Keys[0].Pos().Line, "policy must be a string")
				}
				r.caps, r.capsPos = append(r.caps, legacyPolicy[strings.ToLower(s)]...), hclPos(file, attr.Keys[0].Pos())
			}
		}
		pol.rules = append(pol.rules, r)
	}
	return pol, isPolicy, nil
}

// keyText returns an object key as written, unquoted.
func keyText(k *ast.ObjectKey) string {
	if s, ok := k.Token.Value().(string); ok {
		return s
	}
	return k.Token.Text
}

func hclPos(file string, p hcltoken.Pos) Pos {
	return Pos{File: file, Line: p.Line, Col: p.Column}
}

// stringLit returns a string literal's value.
func stringLit(n ast.Node) (string, bool) {
	lit, ok := n.(*ast.LiteralType)
	if !ok || lit.Token.Type != hcltoken.STRING {
		return "", false
	}
	s, ok := lit.Token.Value().(string)
	return s, ok
}

// stringList reads a list of string literals, the only form of
// capabilities Vault accepts.
func stringList(n ast.Node) ([]string, error) {
	l, ok := n.(*ast.ListType)
	if !ok {
		return nil, errors.New("must be a list of strings")
	}
	out := make([]string, 0, len(l.List))
	for _, e := range l.List {
		s, ok := stringLit(e)
		if !ok {
			return nil, errors.New("must be a list of strings")
		}
		out = append(out, strings.ToLower(s))
	}
	return out, nil
}

// hclKinds are the problems HCL's parser reports, by the start of its
// message, in our words. Its messages may quote the input (a key, a
// token's text), so they are never passed on.
var hclKinds = []struct{ prefix, kind string }{
	{"illegal char escape", "an invalid escape in a string"},
	{"illegal char", "a character that is not allowed here"},
	{"illegal UTF-8", "invalid UTF-8"},
	{"unexpected null character", "a NUL character"},
	{"literal not terminated", "a string that is not closed"},
	{"comment not terminated", "a comment that is not closed"},
	{"heredoc", "an invalid heredoc"},
	{"expected '/' for comment", "a stray slash"},
	{"illegal hexadecimal", "an invalid number"},
	{"illegal octal", "an invalid number"},
	{"numbers cannot start", "an invalid number"},
	{"nested object expected", "a block where a value was expected"},
	{"object expected closing RBRACE", "a block that is not closed"},
	{"unexpected token while parsing list", "an invalid list"},
	{"expected: ", "an unexpected token"},
	{"Unknown token", "an unexpected token"},
	{"Expected object", "an unexpected token"},
	{"The argument", "an argument set twice"},
	{"key '", "a key without a value or block"},
}

// dupAtRe finds the position in HCL's "already set" message.
var dupAtRe = regexp.MustCompile(` at (\d+):\d+ was already set`)

// hclError turns an error of HCL's parser into one that names the line and
// the kind of problem only.
func hclError(err error) error {
	line, inner := 0, err
	var pe *hclparser.PosError
	if errors.As(err, &pe) {
		line, inner = pe.Pos.Line, pe.Err
	}
	msg := inner.Error()
	if line == 0 {
		if m := dupAtRe.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
	}
	kind := "invalid HCL syntax"
	for _, k := range hclKinds {
		if strings.HasPrefix(msg, k.prefix) {
			kind = k.kind
			break
		}
	}
	return lineErr(line, kind)
}

// pathBlockRe finds the start of a policy's path block.
var pathBlockRe = regexp.MustCompile(`(?m)^[ \t]*"?path"?[ \t]+"`)

// looksLikePolicy reports whether an HCL file that does not parse was
// meant as a Vault policy: a line starts a path block.
func looksLikePolicy(data []byte) bool {
	return pathBlockRe.Match(data)
}

// hclTooDeep returns the line where brackets and braces nest deeper than
// maxHCLDepth, or 0. Strings and comments are skipped.
func hclTooDeep(data []byte) int {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '"':
			for i++; i < len(data) && data[i] != '"' && data[i] != '\n'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if i < len(data) && data[i] == '\n' {
				line++
			}
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			line++
		case '/':
			if i+1 < len(data) && data[i+1] == '/' {
				for i < len(data) && data[i] != '\n' {
					i++
				}
				line++
			} else if i+1 < len(data) && data[i+1] == '*' {
				for i += 2; i+1 < len(data) && (data[i] != '*' || data[i+1] != '/'); i++ {
					if data[i] == '\n' {
						line++
					}
				}
				i++
			}
		case '[', '{':
			if depth++; depth > maxHCLDepth {
				return line
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return 0
}

// globMatch matches a Vault policy path against a path: "+" stands for one
// segment, a trailing "*" for any suffix (Vault's own rules).
func globMatch(glob, p string) bool {
	prefix := strings.HasSuffix(glob, "*")
	gs := strings.Split(strings.TrimSuffix(glob, "*"), "/")
	ps := strings.Split(p, "/")
	if len(ps) < len(gs) || (!prefix && len(ps) != len(gs)) {
		return false
	}
	for i, g := range gs {
		switch {
		case g == "+":
			if ps[i] == "" {
				return false
			}
		case prefix && i == len(gs)-1:
			if !strings.HasPrefix(ps[i], g) {
				return false
			}
		case g != ps[i]:
			return false
		}
	}
	return true
}

// kvForms returns the API paths a logical KV path is read, listed and
// changed through: itself (KV v1) and the KV v2 data, metadata, delete,
// undelete and destroy paths.
func kvForms(logical string) []string {
	mount, rest, ok := strings.Cut(logical, "/")
	if !ok {
		return []string{logical}
	}
	out := []string{logical}
	for _, sub := range []string{"data", "metadata", "delete", "undelete", "destroy"} {
		out = append(out, mount+"/"+sub+"/"+rest)
	}
	return out
}
