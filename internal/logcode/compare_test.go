package logcode_test

import (
	"go/ast"
	"go/token"
	"go/types"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestNoCodeComparedWithInterface: nowhere in the module (tests included) is
// a Code compared with an interface value, such as a JSON-decoded event's
// ev["code"]: that compiles and is never true, since the interface holds a
// string. Compare with the code's Name() instead. The check type-checks
// every package of the module.
func TestNoCodeComparedWithInterface(t *testing.T) {
	cfg := &packages.Config{Dir: "../..", Tests: true,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("%d packages loaded: the module was not found", len(pkgs))
	}
	isCode := func(tp types.Type) bool {
		n, ok := types.Unalias(tp).(*types.Named)
		return ok && n.Obj().Name() == "Code" && n.Obj().Pkg() != nil &&
			n.Obj().Pkg().Path() == "github.com/n8n-secrets/n8n-secrets/internal/logcode"
	}
	isIface := func(tp types.Type) bool {
		if tp == nil {
			return false
		}
		_, ok := tp.Underlying().(*types.Interface)
		return ok
	}
	found := map[string]bool{}
	checked := 0
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Errorf("%s: %v", p.PkgPath, e)
		}
		for _, f := range p.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if n.Op != token.EQL && n.Op != token.NEQ {
						return true
					}
					x, y := p.TypesInfo.TypeOf(n.X), p.TypesInfo.TypeOf(n.Y)
					if isCode(x) || isCode(y) {
						checked++
					}
					if (isIface(x) && isCode(y)) || (isCode(x) && isIface(y)) {
						found[p.Fset.Position(n.Pos()).String()] = true
					}
				case *ast.SwitchStmt:
					if n.Tag == nil || !isIface(p.TypesInfo.TypeOf(n.Tag)) {
						return true
					}
					for _, c := range n.Body.List {
						for _, e := range c.(*ast.CaseClause).List {
							if isCode(p.TypesInfo.TypeOf(e)) {
								found[p.Fset.Position(e.Pos()).String()] = true
							}
						}
					}
				}
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no comparison of codes found: the check checks nothing")
	}
	for pos := range found {
		t.Errorf("%s: a logcode.Code compared with an interface value is never equal: compare with its Name()", pos)
	}
}
