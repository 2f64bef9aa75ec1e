// Command floor is the benchmark's floor (bench_floor_test.go): a program
// that links the same libraries as n8n-secrets, reached the same way, and
// does nothing but exec its arguments. It links the provider packages,
// whose start-up costs nothing (they do no work until asked to fetch), so
// that the same parts of Vault's client, the AWS SDK (Secrets Manager and
// Systems Manager), the Azure SDK (azidentity, azsecrets), Google's OAuth
// and metadata libraries, the database drivers and the HCL parser are
// linked and their package initialisation runs as
// in n8n-secrets. n8n-secrets started
// with no reference, against this, is the start-up cost that is ours: its
// settings, scan, guard, signal handling, log line and exec.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/n8n-secrets/n8n-secrets/audit"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
	"github.com/n8n-secrets/n8n-secrets/n8n/store"
	"github.com/n8n-secrets/n8n-secrets/providers"
	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
	"github.com/n8n-secrets/n8n-secrets/providers/awsssm"
	"github.com/n8n-secrets/n8n-secrets/providers/azkv"
	"github.com/n8n-secrets/n8n-secrets/providers/file"
	"github.com/n8n-secrets/n8n-secrets/providers/gcpsm"
	"github.com/n8n-secrets/n8n-secrets/providers/vault"
)

// used keeps the providers, and through them the libraries, linked with
// the same reach as in n8n-secrets, where the resolver calls them.
var used = []any{
	vault.New, (*vault.Provider).Fetch, (*vault.Provider).Close, (*vault.Provider).Requests,
	awssm.New, (*awssm.Provider).Fetch, (*awssm.Provider).FetchBatch,
	file.New, (*file.Provider).Fetch,
	azkv.New, (*azkv.Provider).FetchRef, (*azkv.Provider).WatchRefs,
	gcpsm.New, (*gcpsm.Provider).FetchRef, (*gcpsm.Provider).WatchRefs,
	awsssm.New, (*awsssm.Provider).FetchRef, (*awsssm.Provider).FetchRefs, (*awsssm.Provider).WatchRefs,
	providers.Stores, // the declarations, as main holds them
	store.Open, rekey.Run, rekey.Sample, audit.Run,
	metrics.Write, metrics.Listen, // supervise mode's endpoint: the library's package initialisation runs in every start
}

func main() {
	if len(os.Args) < 2 {
		// Never in the benchmark: it only keeps used alive.
		fmt.Fprintln(os.Stderr, "usage: floor /path/to/cmd [args…]", len(used))
		os.Exit(64)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(126)
}
