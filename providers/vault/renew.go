package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// Supervise mode keeps what this provider read alive: the leases of
// dynamic secrets (sys/leases/renew, sys/leases/revoke) and the token
// (auth/token/renew-self, or a new login when it reaches its maximum TTL).
// Vault's default policy allows renew-self, lookup-self and lease renewal;
// revoking a lease by id needs update on sys/leases/revoke. A lease read
// with a token that this provider obtained by logging in also ends when that
// token is revoked at exit, so a denied revocation leaves it to that.

// CodeLeaseLeftToToken: revoking a lease was denied; it ends with the
// login token, which is revoked at exit.
const CodeLeaseLeftToToken = "VAULT_LEASE_LEFT_TO_TOKEN"

var (
	_ inject.Renewer           = (*Provider)(nil)
	_ inject.Revoker           = (*Provider)(nil)
	_ inject.CredentialRenewer = (*Provider)(nil)
)

// Renew renews a secret's lease by its original duration. Vault caps the
// renewal at the lease's maximum TTL: a lease extended less than asked is
// returned with Renewable false. A lease Vault no longer knows (expired,
// revoked) fails with inject.ErrNotFound.
func (p *Provider) Renew(ctx context.Context, l inject.Lease) (inject.Lease, error) {
	if err := p.login(ctx); err != nil {
		return l, err
	}
	sec, err := p.client.Sys().RenewWithContext(ctx, l.ID, l.Duration)
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == 400 {
			return l, fmt.Errorf("vault: renew lease %s: %w: Vault no longer holds it, or it cannot be renewed", l.ID, inject.ErrNotFound)
		}
		return l, classify("renew lease "+l.ID, err)
	}
	if sec == nil {
		return l, fmt.Errorf("vault: renew lease %s: %w: empty response", l.ID, inject.ErrUnavailable)
	}
	return inject.Lease{ID: l.ID, Duration: sec.LeaseDuration, Renewable: sec.Renewable && sec.LeaseDuration >= l.Duration}, nil
}

// Revoke ends a secret's lease (sys/leases/revoke): Vault removes the
// dynamic credential (a database user is dropped). When the policy denies
// it and the token is one this provider logged in with, the lease is left
// to end with the token, which Close revokes.
func (p *Provider) Revoke(ctx context.Context, l inject.Lease) error {
	if err := p.login(ctx); err != nil {
		return err
	}
	err := p.client.Sys().RevokeWithContext(ctx, l.ID)
	var re *api.ResponseError
	switch {
	case err == nil, errors.As(err, &re) && re.StatusCode == 400:
		// 400: Vault no longer holds the lease.
		p.leases.Add(-1)
		return nil
	case errors.As(err, &re) && re.StatusCode == 403 && p.ownsToken():
		p.leases.Add(-1)
		p.log.Debug("vault lease revocation denied: the lease ends with the login token, revoked at exit",
			"code", CodeLeaseLeftToToken, "lease", l.ID)
		return nil
	}
	err = classify("revoke lease "+l.ID, err)
	if errors.Is(err, inject.ErrPermission) {
		err = fmt.Errorf("%w; the token's policy needs update on sys/leases/revoke", err)
	}
	return err
}

// ownsToken reports whether the token in use came from a login by this
// provider (and is revoked by Close).
func (p *Provider) ownsToken() bool {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	return p.revoke
}

// RenewCredential renews the token by its creation TTL (renew-self), or
// logs in again with relogin. It returns the token's lease: nil for a token
// that does not expire (a root token), Renewable false once Vault will not
// extend it any further (its maximum TTL, or a token that is not
// renewable). A token given by the user (VAULT_TOKEN, a token file) cannot
// be replaced: relogin fails with inject.ErrNotRenewable.
func (p *Provider) RenewCredential(ctx context.Context, relogin bool) (*inject.Lease, error) {
	fresh := false
	if relogin {
		if p.auth.method == "token" {
			return nil, fmt.Errorf("vault: %w: the token given (VAULT_TOKEN or a token file) reaches its maximum TTL; give a token that lives longer, or log in with AppRole, JWT or Kubernetes", inject.ErrNotRenewable)
		}
		// A service-account token is rotated by the kubelet: log in with
		// the one mounted now, not the one read at start.
		jwt := ""
		if p.auth.jwtFile != "" {
			b, err := os.ReadFile(p.auth.jwtFile)
			if err != nil {
				return nil, fmt.Errorf("vault: %w: read %s for a new login: %v", inject.ErrAuth, p.auth.jwtFile, errors.Unwrap(err))
			}
			jwt = strings.TrimSpace(string(b))
		}
		p.loginMu.Lock()
		// The old token stays valid until its own expiry: the leases read
		// with it (in use by the running command) end with it.
		p.loggedIn, p.revoke, p.loginErr = false, false, nil
		if jwt != "" {
			p.auth.jwt = jwt
		}
		p.loginMu.Unlock()
		fresh = true
	}
	if err := p.login(ctx); err != nil {
		return nil, err
	}
	look, err := p.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, classify("look up the token", err)
	}
	if look == nil || look.Data == nil {
		return nil, fmt.Errorf("vault: look up the token: %w: empty response", inject.ErrUnavailable)
	}
	ttl, _ := look.TokenTTL()
	renewable, _ := look.TokenIsRenewable()
	creation := seconds(look.Data["creation_ttl"])
	if creation <= 0 && ttl <= 0 {
		return nil, nil // a root token, or one created without a TTL
	}
	if !renewable {
		return &inject.Lease{Duration: int(ttl / time.Second), Renewable: false}, nil
	}
	if fresh {
		return &inject.Lease{Duration: int(ttl / time.Second), Renewable: true}, nil
	}
	if creation <= 0 {
		creation = int(ttl / time.Second)
	}
	sec, err := p.client.Auth().Token().RenewSelfWithContext(ctx, creation)
	if err != nil {
		return nil, classify("renew the token", err)
	}
	if sec == nil || sec.Auth == nil {
		return nil, fmt.Errorf("vault: renew the token: %w: empty response", inject.ErrUnavailable)
	}
	return &inject.Lease{Duration: sec.Auth.LeaseDuration, Renewable: sec.Auth.Renewable && sec.Auth.LeaseDuration >= creation}, nil
}

// seconds reads a number of seconds from a JSON value of Vault's answer.
func seconds(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	case float64:
		return int(n)
	}
	return 0
}
