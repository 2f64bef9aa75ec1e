package audit

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
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

// parseHCL parses an HCL file with HashiCorp's parser (hcl/v2, native
// syntax). isPolicy is false for HCL that holds no path block (a Vault
// server configuration, for instance), which is not audited.
func parseVaultPolicy(file string, data []byte) (pol *vaultPolicy, isPolicy bool, err error) {
	f, diags := hclsyntax.ParseConfig(data, file, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return nil, true, fmt.Errorf("%s", firstDiag(diags))
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, false, nil
	}
	pol = &vaultPolicy{file: file}
	for _, b := range body.Blocks {
		if b.Type != "path" {
			continue
		}
		isPolicy = true
		if len(b.Labels) != 1 {
			return nil, true, fmt.Errorf("line %d: a path block takes one label, the path", b.TypeRange.Start.Line)
		}
		r := policyRule{path: b.Labels[0], pos: hclPos(file, b.LabelRanges[0])}
		r.capsPos = r.pos
		if attr, ok := b.Body.Attributes["capabilities"]; ok {
			caps, err := stringList(attr.Expr)
			if err != nil {
				return nil, true, fmt.Errorf("line %d: capabilities: %v", attr.SrcRange.Start.Line, err)
			}
			r.caps, r.capsPos = caps, hclPos(file, attr.SrcRange)
		}
		if attr, ok := b.Body.Attributes["policy"]; ok {
			v, d := attr.Expr.Value(nil)
			if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
				return nil, true, fmt.Errorf("line %d: policy must be a string", attr.SrcRange.Start.Line)
			}
			r.caps, r.capsPos = append(r.caps, legacyPolicy[strings.ToLower(v.AsString())]...), hclPos(file, attr.SrcRange)
		}
		pol.rules = append(pol.rules, r)
	}
	return pol, isPolicy, nil
}

func firstDiag(d hcl.Diagnostics) string {
	for _, e := range d {
		if e.Severity == hcl.DiagError {
			s := e.Summary
			if e.Subject != nil {
				s = fmt.Sprintf("line %d: %s", e.Subject.Start.Line, s)
			}
			return s
		}
	}
	return "invalid HCL"
}

func hclPos(file string, r hcl.Range) Pos {
	return Pos{File: file, Line: r.Start.Line, Col: r.Start.Column}
}

// stringList evaluates a constant list of strings.
func stringList(e hclsyntax.Expression) ([]string, error) {
	v, d := e.Value(nil)
	if d.HasErrors() {
		return nil, fmt.Errorf("%s", firstDiag(d))
	}
	if v.IsNull() || !(v.Type().IsTupleType() || v.Type().IsListType() || v.Type().IsSetType()) {
		return nil, fmt.Errorf("want a list of strings")
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		if ev.IsNull() || ev.Type() != cty.String {
			return nil, fmt.Errorf("want a list of strings")
		}
		out = append(out, strings.ToLower(ev.AsString()))
	}
	return out, nil
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
