package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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
	// tokenFile is the file the token was read from ("" for VAULT_TOKEN):
	// it is read again when Vault refuses the token, as a token sink
	// (Vault Agent's) writes a new one there.
	tokenFile string
	// approle: the ids, and the files they came from ("" for a variable):
	// the files are read again at every login.
	roleID, secretID         string
	roleIDFile, secretIDFile string
	// wrapPath, when set, says that the secret id is a response-wrapping
	// token (VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH): it is unwrapped
	// before the login, once its creation path has been checked against
	// wrapPath.
	wrapPath string
	// jwt, kubernetes
	jwt, jwtFile string
}

// WrapPathVar names the setting that says a secret id is response-wrapped,
// and the path Vault must report having created the wrapping token at
// (Vault Agent's secret_id_response_wrapping_path).
const WrapPathVar = "VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH"

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
			if a.source != "VAULT_TOKEN" {
				a.tokenFile = a.source
			}
			return a, nil
		}
		if a.method == "token" {
			return a, fmt.Errorf("vault: %w: no token: set VAULT_TOKEN or VAULT_TOKEN_FILE, or mount %s", inject.ErrNotConfigured, inDir(dir, "vault_token"))
		}
	}
	switch a.method {
	case "", "approle":
		var src string
		a.roleID, src, err = readCredential(getenv, "VAULT_ROLE_ID", inDir(dir, "vault_role_id"))
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
		if src != "VAULT_ROLE_ID" {
			a.roleIDFile = src
		}
		a.method = "approle"
		a.secretID, src, err = readCredential(getenv, "VAULT_SECRET_ID", inDir(dir, "vault_secret_id"))
		if err != nil {
			return a, err
		}
		if a.secretID != "" && src != "VAULT_SECRET_ID" {
			a.secretIDFile = src
		}
		if a.wrapPath = strings.Trim(getenv(WrapPathVar), "/"); getenv(WrapPathVar) != "" {
			if a.wrapPath == "" || strings.ContainsFunc(a.wrapPath, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				return a, fmt.Errorf("vault: %w: %s must be the path that creates the wrapped secret ids, like auth/approle/role/n8n/secret-id",
					inject.ErrNotConfigured, WrapPathVar)
			}
			if a.secretID == "" {
				return a, fmt.Errorf("vault: %w: %s is set but there is no secret id (the wrapping token): set VAULT_SECRET_ID_FILE",
					inject.ErrNotConfigured, WrapPathVar)
			}
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
	if a.wrapPath != "" && a.method != "approle" {
		return a, fmt.Errorf("vault: %w: %s applies to AppRole only", inject.ErrNotConfigured, WrapPathVar)
	}
	if a.mount == "" {
		a.mount = a.method
	}
	return a, nil
}

// Logins never drive Vault's user lockout: Vault locks an AppRole role id
// out (for every node using it) after 5 refused logins in 15 minutes, by
// default. A login whose credentials Vault refused is not sent again with
// the same credentials before lockoutWindow has passed; new credentials (a
// credential file that now holds something else) are tried at once.
const lockoutWindow = 16 * time.Minute

// tokenState is the provider's token and what is known about it. The
// caller holds loginMu.
type tokenState struct {
	set       bool   // a token is set on the client
	gen       int    // incremented with each new token
	invalid   bool   // Vault refused it: log in again (or read its file again) before the next request
	own       bool   // it came from a login by this provider: Close revokes it
	unlimited bool   // its uses are known not to be limited: the speculative read costs nothing
	value     string // the token, to tell a token file's new one from it
	// fresh says that it came from a login (or its file) after Vault
	// refused the one before, since RenewCredential last ran: a relogin
	// asked for then takes it, rather than logging in twice.
	fresh bool
}

// login makes sure a token is set on the client: the first time, it logs
// in (or takes the token given); after Vault refused the token, it logs in
// again (or reads the token file again). A token still valid is kept
// whatever a later login attempt does. It returns the token's generation,
// for noteRefused.
func (p *Provider) login(ctx context.Context) (int, error) {
	waited := time.Now()
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	if p.tok.set && !p.tok.invalid {
		return p.tok.gen, nil
	}
	if p.lastLogin.err != nil && !p.lastLogin.refused && p.lastLogin.at.After(waited) {
		// A login failed while this caller waited for the lock: the
		// callers that asked at once share its answer.
		return p.tok.gen, p.lastLogin.err
	}
	if p.auth.method == "token" {
		if !p.tok.set {
			p.setToken(p.auth.token, false, false)
			p.checkNamespace()
			return p.tok.gen, nil
		}
		if err := p.reloadToken(ctx); err != nil {
			return p.tok.gen, err
		}
		return p.tok.gen, nil
	}
	if err := p.newLogin(ctx); err != nil {
		return p.tok.gen, err
	}
	return p.tok.gen, nil
}

// setToken makes token the one every request sends. The caller holds
// loginMu.
func (p *Provider) setToken(token string, own, unlimited bool) {
	p.client.SetToken(token)
	p.tok = tokenState{set: true, gen: p.tok.gen + 1, own: own, unlimited: unlimited, value: token, fresh: p.tok.set}
}

// noteRefused records that Vault refused the token of generation gen as
// invalid (expired, revoked, its uses spent): the next request logs in
// again first. err is the request's error; only an ErrAuth counts.
func (p *Provider) noteRefused(gen int, err error) {
	if !errors.Is(err, inject.ErrAuth) {
		return
	}
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	if p.tok.gen == gen && p.tok.set {
		p.tok.invalid = true
	}
}

// reloadToken reads the token file again after Vault refused the token in
// it: a token sink (Vault Agent's) may have written a new one. The caller
// holds loginMu.
func (p *Provider) reloadToken(ctx context.Context) error {
	refused := inject.WithHint(fmt.Errorf("vault: %w: Vault does not accept the token (invalid, expired or revoked)", inject.ErrAuth), hintInvalidToken)
	if p.auth.tokenFile == "" {
		return refused
	}
	t, err := readFileCtx(ctx, p.auth.tokenFile, "VAULT_TOKEN")
	if err != nil {
		return err
	}
	if t == p.tok.value {
		return fmt.Errorf("%w; %s still holds the token Vault refused", refused, p.auth.tokenFile)
	}
	p.setToken(t, false, false)
	p.log.Info("vault token read again from its file", "code", CodeLogin, "method", "token", "file", p.auth.tokenFile)
	return nil
}

// readFileCtx reads a credential file under ctx, never twice at once (see
// inject.ReadFile), trimmed; name is the setting it stands for.
func readFileCtx(ctx context.Context, file, name string) (string, error) {
	b, err := inject.ReadFile(ctx, file, func(f string) ([]byte, error) {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("vault: %w: read %s for %s: %v", inject.ErrAuth, f, name, errors.Unwrap(err))
		}
		return b, nil
	})
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("vault: %w: %s (for %s) is empty", inject.ErrAuth, file, name)
	}
	if err := checkCredential(v, file+" (for "+name+")"); err != nil {
		return "", fmt.Errorf("%w (%w)", err, inject.ErrAuth)
	}
	return v, nil
}

// credentials returns the login's request body, from the credential files
// read anew (a secret id or a service-account token rotated since the last
// login is used), and a digest of it that says whether it changed.
func (p *Provider) credentials(ctx context.Context) (map[string]any, string, error) {
	body := map[string]any{}
	switch p.auth.method {
	case "approle":
		roleID, secretID := p.auth.roleID, p.auth.secretID
		var err error
		if p.auth.roleIDFile != "" {
			if roleID, err = readFileCtx(ctx, p.auth.roleIDFile, "VAULT_ROLE_ID"); err != nil {
				return nil, "", err
			}
		}
		if p.auth.secretIDFile != "" {
			if secretID, err = readFileCtx(ctx, p.auth.secretIDFile, "VAULT_SECRET_ID"); err != nil {
				return nil, "", err
			}
		}
		if p.auth.wrapPath != "" {
			if secretID, err = p.unwrapSecretID(ctx, secretID); err != nil {
				return nil, "", err
			}
		}
		body["role_id"] = roleID
		if secretID != "" {
			body["secret_id"] = secretID
		}
	case "jwt", "kubernetes":
		jwt, err := readFileCtx(ctx, p.auth.jwtFile, "VAULT_JWT_FILE")
		if err != nil {
			return nil, "", err
		}
		body["jwt"] = jwt
		if p.auth.role != "" {
			body["role"] = p.auth.role
		}
	}
	b, _ := json.Marshal(body)
	sum := sha256.Sum256(b)
	return body, string(sum[:]), nil
}

// unwrapSecretID returns the secret id that the wrapping token wt wraps.
// The token's creation path must be the one configured: a wrapping token
// made elsewhere may have been put there by someone who intercepted the
// real one. An unwrapped secret id is kept for the next logins, as the
// wrapping token can be unwrapped once. The caller holds loginMu.
func (p *Provider) unwrapSecretID(ctx context.Context, wt string) (string, error) {
	if wt == p.wrapped.token && p.wrapped.secretID != "" {
		return p.wrapped.secretID, nil
	}
	c, err := p.bareClient()
	if err != nil {
		return "", fmt.Errorf("vault: unwrap the secret id: %w: cannot set up the request", inject.ErrNotConfigured)
	}
	c.SetToken(wt)
	look, err := c.Logical().ReadWithContext(ctx, "sys/wrapping/lookup")
	if err != nil {
		err = classify("look up the wrapped secret id", err)
		if !errors.Is(err, inject.ErrUnavailable) {
			err = inject.WithHint(fmt.Errorf("%w (%w)", err, inject.ErrAuth),
				"the wrapping token is unknown, expired or already unwrapped: hand this node a new wrapped secret id")
		}
		return "", err
	}
	created := ""
	if look != nil && look.Data != nil {
		created, _ = look.Data["creation_path"].(string)
	}
	if strings.Trim(created, "/") != p.auth.wrapPath {
		p.log.Error("the wrapped secret id was not created where expected: not unwrapped", "code", CodeWrapPathMismatch,
			"expected", p.auth.wrapPath, "found", created)
		return "", inject.WithHint(fmt.Errorf("vault: unwrap the secret id: %w: the wrapping token was created at %q, not at %s",
			inject.ErrAuth, created, WrapPathVar), "someone may have replaced the wrapped secret id: do not trust it; hand this node a new one from the path "+WrapPathVar+" names")
	}
	sec, err := c.Logical().UnwrapWithContext(ctx, "")
	if err != nil {
		return "", classify("unwrap the secret id", err)
	}
	id := ""
	if sec != nil && sec.Data != nil {
		id, _ = sec.Data["secret_id"].(string)
	}
	if id == "" {
		return "", fmt.Errorf("vault: unwrap the secret id: %w: the wrapped answer holds no secret_id", inject.ErrAuth)
	}
	p.wrapped.token, p.wrapped.secretID = wt, id
	p.log.Info("wrapped secret id unwrapped", "code", CodeSecretIDUnwrapped, "creation_path", created)
	return id, nil
}

// newLogin logs in, unless the pacing forbids it now: then it returns the
// last login's error without a request. The token in use, if any, stays
// until the new login succeeds. The caller holds loginMu.
func (p *Provider) newLogin(ctx context.Context) error {
	now := time.Now()
	body, digest, err := p.credentials(ctx)
	if err != nil {
		return p.loginFailed(err, "", now)
	}
	if r, ok := p.refused[digest]; ok && now.Sub(r.at) < lockoutWindow {
		// The same credentials Vault refused: sending them again could
		// only bring Vault's lockout closer. New ones are sent at once.
		return r.err
	}
	path := "auth/" + p.auth.mount + "/login"
	sec, numUses, err := p.loginRequest(ctx, path, body)
	if err != nil {
		err = classifyLogin(p.auth.method, path, err, p.loginLost)
		if p.auth.method == "approle" && errors.Is(err, inject.ErrAuth) && p.auth.wrapPath == "" && looksLikeToken(fmt.Sprint(body["secret_id"])) {
			err = inject.WithHint(err, "the secret id looks like a Vault token: if it is a response-wrapped secret id, set "+WrapPathVar+
				" to the path that created it (auth/<mount>/role/<role>/secret-id)")
		}
		if errors.Is(err, inject.ErrUnavailable) {
			// The request may have reached Vault, which may have used
			// up a single-use secret id before the answer was lost.
			p.loginLost = true
		}
		return p.loginFailed(err, digest, now)
	}
	if sec.Auth == nil || sec.Auth.ClientToken == "" {
		return p.loginFailed(fmt.Errorf("vault: %s login at %s: %w: no token in the response", p.auth.method, path, inject.ErrAuth), "", now)
	}
	first := !p.tok.set
	p.setToken(sec.Auth.ClientToken, true, numUses == 0)
	p.lastLogin = loginAttempt{}
	p.logins++
	if first {
		p.checkNamespace()
	}
	p.log.Info("vault login", "code", CodeLogin, "method", p.auth.method, "mount", p.auth.mount, "ttl_s", sec.Auth.LeaseDuration)
	if numUses > 0 {
		p.log.Debug("the login token's uses are limited: no speculative reads", "code", CodeLimitedToken, "num_uses", numUses)
	}
	return nil
}

// refusal is a login Vault refused.
type refusal struct {
	at  time.Time
	err error
}

// loginAttempt is the last failed login.
type loginAttempt struct {
	err     error
	refused bool      // Vault refused the credentials (else it did not answer)
	at      time.Time // when it failed
}

// loginFailed records a failed login and returns its error. Credentials
// that Vault refused (digest, when the request was sent) are not sent again
// before lockoutWindow. Other failures (Vault did not answer) are tried
// again when a caller asks next: the callers pace themselves (the
// resolver's backoff at start, the backoffs of supervise mode), and those
// that asked at once share one attempt. A canceled login is not counted.
// The caller holds loginMu.
func (p *Provider) loginFailed(err error, digest string, now time.Time) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	refused := errors.Is(err, inject.ErrAuth) && digest != ""
	if refused {
		err = inject.WithHint(err, inject.HintOf(err)+"; n8n-secrets does not send refused credentials again for "+
			lockoutWindow.String()+" (Vault locks a role id out after 5 refused logins in 15 minutes): change the credential file to try new ones at once")
		p.refused[digest] = refusal{at: now, err: err}
	}
	p.lastLogin = loginAttempt{err: err, refused: refused, at: time.Now()}
	return err
}

// bareClient returns a client configured as the provider's (the same
// transport, headers and namespace) without its token, for a request that
// needs none or another one. Response wrapping stays off (a clone would
// read VAULT_WRAP_TTL again).
func (p *Provider) bareClient() (*api.Client, error) {
	c, err := p.client.CloneWithHeaders()
	if err != nil {
		return nil, err
	}
	c.ClearToken()
	c.SetWrappingLookupFunc(func(string, string) string { return "" })
	return c, nil
}

// looksLikeToken reports whether s has the form of a Vault token (as a
// wrapping token has) rather than of a secret id (a UUID).
func looksLikeToken(s string) bool {
	for _, prefix := range []string{"hvs.", "hvb.", "s.", "b."} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// loginRequest sends the login without the current token (a login needs
// none) and reads its answer, and the token's use limit (num_uses, which
// Vault's client library does not keep; 0: unlimited). An answer cut short
// is a transient fault, like a connection reset.
func (p *Provider) loginRequest(ctx context.Context, path string, body map[string]any) (*api.Secret, int, error) {
	op := p.auth.method + " login at " + path
	b, err := json.Marshal(body)
	if err != nil {
		return nil, 0, fmt.Errorf("vault: %s: %w: cannot encode the request", op, inject.ErrBadData)
	}
	c, err := p.bareClient()
	if err != nil {
		return nil, 0, fmt.Errorf("vault: %s: %w: cannot set up the request", op, inject.ErrNotConfigured)
	}
	resp, err := c.Logical().WriteRawWithContext(ctx, path, b)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, 0, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, 0, fmt.Errorf("vault: %s: %w: reading the answer: %v", op, inject.ErrUnavailable, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	sec, err := parseAnswer(op, resp)
	if err != nil {
		return nil, 0, err
	}
	var uses struct {
		Auth *struct {
			NumUses int `json:"num_uses"`
		} `json:"auth"`
	}
	_ = json.Unmarshal(raw, &uses)
	if uses.Auth == nil {
		return sec, 0, nil
	}
	return sec, uses.Auth.NumUses, nil
}

// checkNamespace warns, once and in the background, when VAULT_NAMESPACE
// is set but the server is not Vault Enterprise: open-source Vault ignores
// the namespace header and serves the root namespace. The caller holds
// loginMu.
func (p *Provider) checkNamespace() {
	if p.namespace == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := p.bareClient()
		if err != nil {
			return
		}
		h, err := c.Sys().HealthWithContext(ctx)
		if err != nil || h == nil || h.Enterprise {
			return
		}
		p.log.Warn("VAULT_NAMESPACE is set, but this Vault is not Vault Enterprise: it ignores namespaces and serves the root namespace",
			"code", CodeNamespaceIgnored, "var", "VAULT_NAMESPACE", "version", h.Version,
			"hint", "unset VAULT_NAMESPACE, or point VAULT_ADDR at the Enterprise cluster that has the namespace")
	}()
}

// Close revokes the token obtained by logging in, so that it is useless
// once the child runs. A token given by the user is left alone, and so is a
// login token that leased secrets were read with (see the package doc).
func (p *Provider) Close(ctx context.Context) error {
	p.loginMu.Lock()
	defer p.loginMu.Unlock()
	if !p.tok.own || !p.tok.set {
		return nil
	}
	p.tok.own = false
	if n := p.leases.Load(); n > 0 {
		p.log.Warn("vault login token not revoked: revoking it would revoke the leases of the dynamic secrets read with it; it expires with its TTL",
			"code", CodeTokenKept, "method", p.auth.method, "leased_secrets", n)
		return nil
	}
	err := p.client.Auth().Token().RevokeSelfWithContext(ctx, "")
	if err != nil {
		var re *api.ResponseError
		if errors.As(err, &re) && invalidToken(re) {
			// Vault already revoked it (its uses spent, or expired).
			p.client.ClearToken()
			return nil
		}
		return classify("revoke the login token", err)
	}
	p.client.ClearToken()
	p.log.Info("vault login token revoked", "code", CodeTokenRevoked, "method", p.auth.method)
	return nil
}
