// Command vaultdev runs a real, in-process HashiCorp Vault server for tests.
//
// No Vault binary or container image is available to the project's test
// environment, and Vault's own CLI ("command" package) does not build from the
// Go module proxy. Vault's core and HTTP layer do, so vaultdev assembles a
// server from them: the same request router, token store, policy engine,
// seal/barrier and the same KV, AppRole, JWT/OIDC and Kubernetes plugins a
// production Vault uses, served over the real HTTP API. Only the pieces that
// need a full server configuration are absent (TLS, HA, audit devices,
// external plugins, the UI).
//
// Storage is in memory and lost on exit; mlock is disabled. On start
// vaultdev initializes Vault with a single unseal key (1 share, threshold 1),
// unseals it, starts serving and then writes a JSON info file:
//
//	{"addr":"http://127.0.0.1:PORT","root_token":"hvs....","unseal_key":"base64..."}
//
// The file is written atomically (temporary file + rename), so a caller can
// poll for its existence and read it without seeing a partial document. Once
// it exists the server is ready for requests.
//
// Usage:
//
//	vaultdev -info /tmp/vault.json [-listen 127.0.0.1:0] [-log-level warn]
//
// vaultdev only listens on loopback addresses: it hands out a root token to
// anyone who can read the info file and must never be reachable from another
// host. It exits with status 0 after a clean shutdown on SIGINT or SIGTERM.
//
// Mountable types: secrets engines "kv" (use options version=1 or version=2,
// or the "kv-v1"/"kv-v2" aliases), "leased-kv" (Vault's leased passthrough
// backend: reads come with renewable leases, as dynamic secrets do) and
// "database" (dynamic credentials, with Vault's own
// "postgresql-database-plugin" as its only database plugin), auth
// methods "approle", "jwt" (also "oidc") and "kubernetes", plus Vault's
// built-in token, cubbyhole, identity and sys backends.
//
// Build (from this directory; it is a separate Go module so the product's
// go.mod does not inherit Vault's dependency tree):
//
//	go build -trimpath -o ../../bin/vaultdev .
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	jwtauth "github.com/hashicorp/vault-plugin-auth-jwt"
	kubeauth "github.com/hashicorp/vault-plugin-auth-kubernetes"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/logical/database"
	"github.com/hashicorp/vault/helper/namespace"
	"github.com/hashicorp/vault/helper/testhelpers/corehelpers"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/plugins/database/postgresql"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
	"github.com/hashicorp/vault/vault/plugincatalog"
)

// info is the document written to the -info file once the server is ready.
type info struct {
	// Addr is the base URL of the HTTP API, e.g. "http://127.0.0.1:43117".
	Addr string `json:"addr"`
	// RootToken is the initial root token returned by initialization.
	RootToken string `json:"root_token"`
	// UnsealKey is the single unseal key share, standard base64, as
	// accepted by sys/unseal.
	UnsealKey string `json:"unseal_key"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback `address` to serve the HTTP API on (port 0 picks a free port)")
	infoPath := flag.String("info", "", "`file` to write {addr, root_token, unseal_key} JSON to once ready (required)")
	logLevel := flag.String("log-level", "warn", "Vault log `level`: trace, debug, info, warn, error, off")
	flag.Parse()

	if *infoPath == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: vaultdev -info FILE [-listen 127.0.0.1:0] [-log-level warn]")
		os.Exit(2)
	}
	if err := run(*listen, *infoPath, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "vaultdev:", err)
		os.Exit(1)
	}
}

// run starts the server, writes the info file, and blocks until a
// termination signal arrives and the server has shut down.
func run(listen, infoPath, logLevel string) error {
	level := hclog.LevelFromString(logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("unknown -log-level %q", logLevel)
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "vaultdev",
		Level:  level,
		Output: os.Stderr,
	})

	// Listen first so a bad address fails fast, before building a core.
	ln, err := listenLoopback(listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	addr := "http://" + ln.Addr().String()

	core, result, err := newUnsealedCore(logger, addr)
	if err != nil {
		return err
	}

	// Serve the real Vault HTTP API. The HTTP handler dereferences
	// ListenerConfig unconditionally, so it must be non-nil; an empty one
	// means "defaults" (no redaction, no unauthenticated metrics/pprof).
	handler := vaulthttp.Handler.Handler(&vault.HandlerProperties{
		Core:           core,
		ListenerConfig: &configutil.Listener{},
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	// The listener is already accepting, so the API is reachable as soon as
	// the info file appears.
	if err := writeInfoAtomically(infoPath, info{
		Addr:      addr,
		RootToken: result.RootToken,
		UnsealKey: base64.StdEncoding.EncodeToString(result.SecretShares[0]),
	}); err != nil {
		srv.Close()
		core.Shutdown()
		return err
	}
	logger.Info("vault is ready", "addr", addr, "info", infoPath)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig)
	case err := <-serveErr:
		core.Shutdown()
		return fmt.Errorf("http server: %w", err)
	}

	// Stop accepting requests, give in-flight ones a moment, then stop the
	// core (which seals it and stops its background goroutines).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "error", err)
		srv.Close()
	}
	if err := core.Shutdown(); err != nil {
		logger.Warn("core shutdown", "error", err)
	}
	return nil
}

// listenLoopback opens a TCP listener on addr and refuses anything that is
// not a loopback IP address ("localhost" is resolved by the listener, so it
// is checked on the address actually bound).
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-listen %q: refusing to listen on a non-loopback address (this server hands out a root token)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("-listen %q: bound to non-loopback address %v", addr, ln.Addr())
	}
	return ln, nil
}

// newUnsealedCore builds a Vault core over in-memory storage, initializes it
// with a single Shamir key share and unseals it. The result holds the root
// token and the unseal key.
func newUnsealedCore(logger hclog.Logger, addr string) (*vault.Core, *vault.InitResult, error) {
	physical, err := inmem.NewInmem(nil, logger.Named("storage"))
	if err != nil {
		return nil, nil, fmt.Errorf("in-memory storage: %w", err)
	}

	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:     physical,
		Logger:       logger,
		DisableMlock: true,
		// RedirectAddr is what Vault reports as its own API address
		// (sys/leader etc.).
		RedirectAddr: addr,
		// Backends compiled into this binary. The core consults these
		// maps before its plugin catalog, so no plugin directory or
		// external plugin processes are needed. "kv" serves both KV v1
		// and v2; the version is chosen by the mount's "version" option.
		// "oidc" is the JWT plugin's second name, as in a real Vault.
		LogicalBackends: map[string]logical.Factory{
			"kv":       kv.Factory,
			"database": database.Factory,
			// Vault's own leased key-value backend (what "vault server
			// -dev -dev-leased-kv" mounts as kv): every read returns a
			// lease, renewable when the secret has a "ttl" key, limited
			// by the mount's max_lease_ttl. Dynamic-secret behaviour
			// without a database.
			"leased-kv": vault.LeasedPassthroughBackendFactory,
		},
		CredentialBackends: map[string]logical.Factory{
			"approle":    approle.Factory,
			"jwt":        jwtauth.Factory,
			"oidc":       jwtauth.Factory,
			"kubernetes": kubeauth.Factory,
		},
		// The plugin catalog needs a registry of builtins to exist; the
		// mock one from Vault's own test helpers is small and has no
		// heavy dependencies. Our backends above take precedence, and
		// builtins serves the real PostgreSQL database plugin.
		BuiltinRegistry: builtins{corehelpers.NewMockBuiltinRegistry()},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating vault core: %w", err)
	}

	// Same sequence as "vault server -dev": a default (Shamir) seal with
	// one share, then unseal with that share.
	ctx := namespace.RootContext(context.Background())
	result, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{
			SecretShares:    1,
			SecretThreshold: 1,
		},
		// The Shamir seal has no recovery keys.
		RecoveryConfig: nil,
	})
	if err != nil {
		core.Shutdown()
		return nil, nil, fmt.Errorf("initializing vault: %w", err)
	}
	key := make([]byte, len(result.SecretShares[0]))
	copy(key, result.SecretShares[0])
	unsealed, err := core.Unseal(key)
	if err != nil {
		core.Shutdown()
		return nil, nil, fmt.Errorf("unsealing vault: %w", err)
	}
	if !unsealed {
		core.Shutdown()
		return nil, nil, errors.New("vault still sealed after providing the unseal key")
	}

	// Unseal returns once the barrier is open; the core then finishes
	// becoming active (mounting backends, loading policies) in the
	// background. Wait for that so the first request after the info file
	// appears does not race setup.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if core.Sealed() {
			return nil, nil, errors.New("vault resealed during startup")
		}
		if standby, err := core.Standby(); err == nil && !standby {
			break
		}
		if time.Now().After(deadline) {
			core.Shutdown()
			return nil, nil, errors.New("vault did not become active within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return core, result, nil
}

// writeInfoAtomically writes v as JSON to a temporary file next to path,
// with mode 0600 since it contains the root token, and renames it into
// place so readers only ever see a complete document.
func writeInfoAtomically(path string, v info) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("info file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("info file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("info file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("info file: %w", err)
	}
	return nil
}

// builtins is the catalog of builtin plugins: the mock registry of Vault's
// test helpers, except that the database plugin "postgresql-database-plugin"
// is Vault's real one (the mock's is an empty backend). The database secrets
// engine runs it in process, as a production Vault runs its builtins.
type builtins struct {
	plugincatalog.BuiltinRegistry
}

// postgresPlugin is the name the database engine's connection config takes
// as plugin_name.
const postgresPlugin = "postgresql-database-plugin"

// Get returns the factory of a builtin plugin.
func (b builtins) Get(name string, pluginType consts.PluginType) (func() (interface{}, error), bool) {
	if name == postgresPlugin && pluginType == consts.PluginTypeDatabase {
		return postgresql.New, true
	}
	return b.BuiltinRegistry.Get(name, pluginType)
}
