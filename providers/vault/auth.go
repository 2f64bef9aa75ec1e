package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// auth is how the provider gets its token.
type auth struct {
	method string // token, approle, jwt, kubernetes
	mount  string // auth mount path, e.g. approle
	role   string // VAULT_AUTH_ROLE
	token  string // method token
	source string // where the token came from, for logs
	// approle
	roleID, secretID string
	// jwt, kubernetes
	jwt, jwtFile string
}

// authFromEnv reads the auth settings. With VAULT_AUTH_METHOD unset it is
// token auth when a token is available, else AppRole when a role id is.
func authFromEnv(getenv func(string) string, dir string) (auth, error) {
	a := auth{method: strings.ToLower(getenv("VAULT_AUTH_METHOD")), mount: strings.Trim(getenv("VAULT_AUTH_MOUNT"), "/"), role: getenv("VAULT_AUTH_ROLE")}
	var err error
	if a.method == "" || a.method == "token" {
		a.token, a.source, err = readCredential(getenv, "VAULT_TOKEN", inDir(dir, "vault_token"))
		if err != nil {
			return a, err
		}
		if a.token != "" {
			a.method = "token"
			return a, nil
		}
		if a.method == "token" {
			return a, fmt.Errorf("vault: %w: no token: set VAULT_TOKEN or VAULT_TOKEN_FILE, or mount %s", inject.ErrNotConfigured, inDir(dir, "vault_token"))
		}
	}
	switch a.method {
	case "", "approle":
		a.roleID, _, err = readCredential(getenv, "VAULT_ROLE_ID", inDir(dir, "vault_role_id"))
		if err != nil {
			return a, err
		}
		if a.roleID == "" {
			if a.method == "" {
				return a, fmt.Errorf("vault: %w: no credentials: set VAULT_TOKEN (or mount %s), or VAULT_AUTH_METHOD with its settings",
					inject.ErrNotConfigured, inDir(dir, "vault_token"))
			}
			return a, fmt.Errorf("vault: %w: AppRole needs a role id: set VAULT_ROLE_ID or VAULT_ROLE_ID_FILE, or mount %s", inject.ErrNotConfigured, inDir(dir, "vault_role_id"))
		}
		a.method = "approle"
		a.secretID, _, err = readCredential(getenv, "VAULT_SECRET_ID", inDir(dir, "vault_secret_id"))
		if err != nil {
			return a, err
		}
	case "jwt", "kubernetes":
		a.jwtFile = getenv("VAULT_JWT_FILE")
		if a.jwtFile == "" {
			a.jwtFile = DefaultJWTFile
		}
		if a.role == "" && a.method == "kubernetes" {
			return a, fmt.Errorf("vault: %w: kubernetes auth needs VAULT_AUTH_ROLE", inject.ErrNotConfigured)
		}
		if a.jwt, _, err = readCredential(func(k string) string {
			if k == "VAULT_JWT_FILE" {
				return a.jwtFile
			}
			return ""
		}, "VAULT_JWT", ""); err != nil {
			return a, err
		}
	default:
		return a, fmt.Errorf("vault: %w: VAULT_AUTH_METHOD must be token, approle, jwt or kubernetes", inject.ErrNotConfigured)
	}
	if a.mount == "" {
		a.mount = a.method
	}
	return a, nil
}

// login sets a token on the client, once. Transient failures are not
// remembered, so that the resolver's next attempt logs in again; a
// permanent one is returned to every later fetch without a new request.
func (p *Provider) login(ctx context.Context) error {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	if p.loggedIn {
		return nil
	}
	if p.loginErr != nil {
		return p.loginErr
	}
	if p.auth.method == "token" {
		p.client.SetToken(p.auth.token)
		p.loggedIn = true
		return nil
	}
	body := map[string]any{}
	switch p.auth.method {
	case "approle":
		body["role_id"] = p.auth.roleID
		if p.auth.secretID != "" {
			body["secret_id"] = p.auth.secretID
		}
	case "jwt", "kubernetes":
		body["jwt"] = p.auth.jwt
		if p.auth.role != "" {
			body["role"] = p.auth.role
		}
	}
	path := "auth/" + p.auth.mount + "/login"
	sec, err := p.loginRequest(ctx, path, body)
	if err != nil {
		err = classifyLogin(p.auth.method, path, err, p.loginLost)
		switch {
		case errors.Is(err, inject.ErrUnavailable):
			// The request may have reached Vault, which may have used
			// up a single-use secret id before the answer was lost.
			p.loginLost = true
		case !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
			p.loginErr = err
		}
		return err
	}
	if sec.Auth == nil || sec.Auth.ClientToken == "" {
		p.loginErr = fmt.Errorf("vault: %s login at %s: %w: no token in the response", p.auth.method, path, inject.ErrAuth)
		return p.loginErr
	}
	p.client.SetToken(sec.Auth.ClientToken)
	p.loggedIn, p.revoke = true, true
	p.log.Info("vault login", "code", CodeLogin, "method", p.auth.method, "mount", p.auth.mount, "ttl_s", sec.Auth.LeaseDuration)
	return nil
}

// loginRequest sends the login and reads its answer. An answer cut short
// is a transient fault, like a connection reset.
func (p *Provider) loginRequest(ctx context.Context, path string, body map[string]any) (*api.Secret, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("vault: %s login at %s: %w: cannot encode the request", p.auth.method, path, inject.ErrBadData)
	}
	resp, err := p.client.Logical().WriteRawWithContext(ctx, path, b)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return parseAnswer(p.auth.method+" login at "+path, resp)
}

// Close revokes the token obtained by logging in, so that it is useless
// once the child runs. A token given by the user is left alone, and so is a
// login token that leased secrets were read with (see the package doc).
func (p *Provider) Close(ctx context.Context) error {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	if !p.revoke {
		return nil
	}
	p.revoke = false
	if n := p.leases.Load(); n > 0 {
		p.log.Warn("vault login token not revoked: revoking it would revoke the leases of the dynamic secrets read with it; it expires with its TTL",
			"code", CodeTokenKept, "method", p.auth.method, "leased_secrets", n)
		return nil
	}
	if err := p.client.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
		return classify("revoke the login token", err)
	}
	p.client.ClearToken()
	p.log.Info("vault login token revoked", "code", CodeTokenRevoked, "method", p.auth.method)
	return nil
}
