package azkv

import (
	"context"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Store declares Azure Key Vault to the core: azkv://<vault-name>/<secret>.
var Store = inject.Store{
	Scheme: Scheme,
	Syntax: Syntax,
	Options: func() (o []inject.Option) {
		for _, x := range Options {
			o = append(o, inject.Option{Name: x.Name, Meaning: x.Meaning})
		}
		return o
	}(),
	Parse: func(path string, opts map[string]string) (inject.Locator, error) {
		return ParseRef(path, opts)
	},
	OwnedVars:      inject.Matcher(OwnedVars),
	CredentialVars: inject.Matcher(CredentialVars),
	Variables: func() (vs []inject.Variable) {
		for _, v := range Variables {
			vs = append(vs, inject.Variable{Name: v.Name, Meaning: v.Meaning})
		}
		return vs
	}(),
	Hints: Hints,
	New: func(c inject.Config) (inject.Provider, error) {
		p, err := New(Config{Getenv: c.Getenv, SecretsDir: c.SecretsDir, AllowHTTP: c.AllowHTTP, Logger: c.Logger})
		if err != nil {
			return nil, err
		}
		return store{p}, nil
	},
	Provider: store{},
}

// store is the provider as the core calls it: references carry this
// store's Ref.
type store struct{ p *Provider }

var (
	_ inject.Provider       = store{}
	_ inject.Watcher        = store{}
	_ inject.RequestCounter = store{}
)

func (s store) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	return s.p.FetchRef(ctx, ref.Loc.(Ref))
}

func (s store) Watch(ctx context.Context, refs []inject.Reference) []inject.WatchResult {
	rs := make([]Ref, len(refs))
	for i, r := range refs {
		rs[i] = r.Loc.(Ref)
	}
	return s.p.WatchRefs(ctx, rs)
}

func (s store) Requests() int64 { return s.p.Requests() }
