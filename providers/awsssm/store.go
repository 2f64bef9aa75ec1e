package awsssm

import (
	"context"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Store declares AWS Systems Manager Parameter Store to the core:
// awsssm://<parameter-name>[?version=N|label=L].
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
	Foreign: []inject.ForeignPrefix{
		{Prefix: "arn:aws:ssm:", Tool: "an AWS Systems Manager parameter ARN (secrets-init)", Hint: "to resolve it here, write awsssm://arn:aws:ssm:…"},
	},
}

// store is the provider as the core calls it: references carry this
// store's Ref.
type store struct{ p *Provider }

var (
	_ inject.Provider       = store{}
	_ inject.BatchProvider  = store{}
	_ inject.Watcher        = store{}
	_ inject.AccessReviewer = store{}
	_ inject.RequestCounter = store{}
)

func refs(rs []inject.Reference) []Ref {
	out := make([]Ref, len(rs))
	for i, r := range rs {
		out[i] = r.Loc.(Ref)
	}
	return out
}

func (s store) Fetch(ctx context.Context, ref inject.Reference) (inject.Payload, error) {
	return s.p.FetchRef(ctx, ref.Loc.(Ref))
}

func (s store) FetchBatch(ctx context.Context, rs []inject.Reference) []inject.BatchResult {
	return s.p.FetchRefs(ctx, refs(rs))
}

func (s store) Watch(ctx context.Context, rs []inject.Reference) []inject.WatchResult {
	return s.p.WatchRefs(ctx, refs(rs))
}

func (s store) ReviewAccess(ctx context.Context, rs []inject.Reference) ([]inject.AccessFinding, error) {
	return s.p.ReviewAccess(ctx, refs(rs))
}

func (s store) Requests() int64 { return s.p.Requests() }
