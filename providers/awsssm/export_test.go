package awsssm

import "github.com/n8n-secrets/n8n-secrets/inject"

// Adapt returns p as the core calls it, through the store's declaration's
// adapter, for the external tests.
func Adapt(p *Provider) inject.Provider { return store{p} }
