package audit

import "github.com/n8n-secrets/n8n-secrets/providers"

// testStores are the program's stores: the audit reads references as the
// start does.
var testStores = providers.Stores
