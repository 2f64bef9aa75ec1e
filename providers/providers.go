// Package providers holds the list of the stores this build has: each
// store is one package under providers/ that declares itself in one
// inject.Store value. The command wires this list; its tests, the audit's
// and the examples' read the same one, so that a store added here is known
// everywhere at once.
package providers

import (
	"github.com/n8n-secrets/n8n-secrets/inject"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
	"github.com/n8n-secrets/n8n-secrets/providers/azkv"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
	"github.com/n8n-secrets/n8n-secrets/providers/gcpsm"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// Stores are the stores this build has, in the order help and errors list
// them. Adding a store is one line here.
var Stores = inject.Stores{
	vault.Store,
	awssm.Store,
	file.Store,
	azkv.Store,
	gcpsm.Store,
	awsssm.Store,
}
