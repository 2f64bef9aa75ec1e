package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	gen, err := p.login(ctx)
	if err != nil {
		return l, err
	}
	sec, err := p.client.Sys().RenewWithContext(ctx, l.ID, l.Duration)
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == 400 {
			return l, fmt.Errorf("vault: renew lease %s: %w: Vault no longer holds it, or it cannot be renewed", l.ID, inject.ErrNotFound)
		}
		err = classify("renew lease "+l.ID, err)
		p.noteRefused(gen, err)
		return l, err
	}
	if sec == nil {
		return l, fmt.Errorf("vault: renew lease %s: %w: empty response", l.ID, inject.ErrUnavailable)
	}
	return inject.Lease{ID: l.ID, Duration: sec.LeaseDuration, Renewable: sec.Renewable && sec.LeaseDuration >= l.Duration}, nil
}

// Revoke ends a secret's lease (sys/leases/revoke): Vault removes the
// dynamic credential (a database user is dropped). It returns nil only
// when Vault accepted; inject.ErrNotFound when Vault no longer holds the
// lease; inject.ErrRevokeDeferred when the policy denies it and the token
// is one this provider logged in with (the lease ends with the token,
// which Close revokes).
func (p *Provider) Revoke(ctx context.Context, l inject.Lease) error {
	gen, err := p.login(ctx)
	if err != nil {
		return err
	}
	err = p.client.Sys().RevokeWithContext(ctx, l.ID)
	var re *api.ResponseError
	switch {
	case err == nil:
		p.leases.Add(-1)
		return nil
	case errors.As(err, &re) && re.StatusCode == 400:
		p.leases.Add(-1)
		return fmt.Errorf("vault: revoke lease %s: %w: Vault no longer holds it", l.ID, inject.ErrNotFound)
	case errors.As(err, &re) && re.StatusCode == 403 && !invalidToken(re) && p.ownsToken():
		p.leases.Add(-1)
		return fmt.Errorf("vault: revoke lease %s: %w: the token's policy denies update on sys/leases/revoke", l.ID, inject.ErrRevokeDeferred)
	}
	err = classify("revoke lease "+l.ID, err)
	p.noteRefused(gen, err)
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
	return p.tok.own
}

// RenewCredential renews the token by its creation TTL (renew-self), or
// logs in again with relogin. It returns the token's lease: nil for a token
// that does not expire (a root token), Renewable false once Vault will not
// extend it any further (its maximum TTL, or a token that is not
// renewable).
//
// A new login reads the credential files again (a secret id or a
// service-account token rotated meanwhile is used) and keeps the token in
// use until it succeeds: a failed login leaves the old token working until
// it really expires. A token given by the user cannot be replaced: relogin
// fails with inject.ErrNotRenewable, unless it came from a file, which is
// then read again (a token sink writes new ones there).
func (p *Provider) RenewCredential(ctx context.Context, relogin bool) (*inject.Lease, error) {
	fresh := false
	if relogin {
		p.loginMu.Lock()
		var err error
		switch {
		case p.tok.fresh && !p.tok.invalid:
			// A request found the old token refused and logged in
			// already: that new token is the relogin.
		case p.auth.method != "token":
			err = p.newLogin(ctx)
		case p.auth.tokenFile == "":
			err = fmt.Errorf("vault: %w: the token given in VAULT_TOKEN cannot be replaced; give a token that lives longer (or a token file that a token sink keeps current), or log in with AppRole, JWT or Kubernetes", inject.ErrNotRenewable)
		default:
			err = p.reloadToken(ctx)
		}
		p.loginMu.Unlock()
		if err != nil {
			return nil, err
		}
		fresh = true
	}
	gen, err := p.login(ctx)
	if err != nil {
		return nil, err
	}
	p.loginMu.Lock()
	p.tok.fresh = false
	p.loginMu.Unlock()
	look, err := p.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		err = classify("look up the token", err)
		p.noteRefused(gen, err)
		return nil, err
	}
	if look == nil || look.Data == nil {
		return nil, fmt.Errorf("vault: look up the token: %w: empty response", inject.ErrUnavailable)
	}
	if uses := seconds(look.Data["num_uses"]); uses > 0 {
		p.limitedToken(uses)
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
		err = classify("renew the token", err)
		p.noteRefused(gen, err)
		return nil, err
	}
	if sec == nil || sec.Auth == nil {
		return nil, fmt.Errorf("vault: renew the token: %w: empty response", inject.ErrUnavailable)
	}
	return &inject.Lease{Duration: sec.Auth.LeaseDuration, Renewable: sec.Auth.Renewable && sec.Auth.LeaseDuration >= creation}, nil
}

// limitedToken records that the token's uses are limited: no speculative
// reads with it, and a warning, once, that supervise mode spends a use at
// every request.
func (p *Provider) limitedToken(uses int) {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	p.tok.unlimited = false
	if p.usesTold {
		return
	}
	p.usesTold = true
	p.log.Warn("the Vault token can be used only a few more times: every watch, renewal and read spends one, and it is revoked when they are spent",
		"code", CodeLimitedToken, "num_uses", uses, "hint", "give supervise mode a token without a use limit (token_num_uses=0)")
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
