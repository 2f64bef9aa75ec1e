package gcpsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// maxCredFile bounds a credentials file.
const maxCredFile = 64 << 10

// credentials are the Application Default Credentials found, loaded once.
type credentials struct {
	step    string             // where they came from, for errors: never a value
	ts      oauth2.TokenSource // a credentials file's
	meta    *metaSource        // or the metadata server's
	project string             // the key file's project_id, if any

	metaProject func(ctx context.Context) (string, error)
}

// creds returns the credentials, loading them on the first call: the file
// GOOGLE_APPLICATION_CREDENTIALS names, else gcloud's ADC file, else the
// metadata server. A failure is not kept: the next call tries again (a
// file mounted late, a metadata server starting).
func (p *Provider) creds(ctx context.Context) (*credentials, error) {
	select {
	case p.credSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.credSem }()
	if p.cred != nil {
		return p.cred, nil
	}
	c, err := p.loadCreds(ctx)
	if err != nil {
		return nil, err
	}
	p.cred = c
	return c, nil
}

func (p *Provider) loadCreds(ctx context.Context) (*credentials, error) {
	if name := p.getenv("GOOGLE_APPLICATION_CREDENTIALS"); name != "" {
		return p.fileCreds(ctx, name, "the credentials file GOOGLE_APPLICATION_CREDENTIALS names", true)
	}
	if name := p.adcFile(); name != "" {
		if _, err := os.Stat(name); err == nil {
			return p.fileCreds(ctx, name, "gcloud's application_default_credentials.json", false)
		}
	}
	// The metadata server: GKE workload identity, Compute Engine, Cloud Run.
	if !p.meta.OnGCEWithContext(ctx) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: no Google credentials found: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no gcloud application_default_credentials.json, and no metadata server answers (not on GKE, Compute Engine or Cloud Run; GCE_METADATA_HOST is not set)", inject.ErrAuth)
	}
	m := &metaSource{c: p.meta, sem: make(chan struct{}, 1)}
	return &credentials{step: "the metadata server (GKE workload identity or the attached service account)", meta: m,
		metaProject: func(ctx context.Context) (string, error) {
			s, err := p.meta.ProjectIDWithContext(ctx)
			if err != nil {
				return "", metadataFailure("the metadata server's project id", err)
			}
			return strings.TrimSpace(s), nil
		}}, nil
}

// adcFile returns the path of gcloud's application default credentials.
func (p *Provider) adcFile() string {
	const f = "application_default_credentials.json"
	if dir := p.getenv("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, f)
	}
	if home := p.getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "gcloud", f)
	}
	return ""
}

// credFile is what is checked of a credentials file before x/oauth2 reads
// it: its type and every address it makes requests to.
type credFile struct {
	Type                           string          `json:"type"`
	ProjectID                      string          `json:"project_id"`
	TokenURI                       string          `json:"token_uri"`
	TokenURL                       string          `json:"token_url"`
	TokenInfoURL                   string          `json:"token_info_url"`
	ServiceAccountImpersonationURL string          `json:"service_account_impersonation_url"`
	RevokeURL                      string          `json:"revoke_url"`
	UniverseDomain                 string          `json:"universe_domain"`
	SourceCredentials              *credFile       `json:"source_credentials"`
	CredentialSource               *credSourceURLs `json:"credential_source"`
}

type credSourceURLs struct {
	URL                         string `json:"url"`
	RegionURL                   string `json:"region_url"`
	IMDSv2SessionTokenURL       string `json:"imdsv2_session_token_url"`
	RegionalCredVerificationURL string `json:"regional_cred_verification_url"`
}

// fileCreds reads and checks a credentials file. Its text, and that of the
// library's errors about it, is never shown: it holds a private key or a
// refresh token.
func (p *Provider) fileCreds(ctx context.Context, name, step string, named bool) (*credentials, error) {
	data, err := inject.Call(ctx, func() ([]byte, error) { return readSmall(name) })
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		what := "gcloud's application_default_credentials.json"
		if named {
			what = "the file GOOGLE_APPLICATION_CREDENTIALS names"
		}
		return nil, fmt.Errorf("%w: cannot read %s: %s", inject.ErrAuth, what, fileProblem(err))
	}
	var cf credFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a JSON credentials file", inject.ErrAuth, step)
	}
	switch cf.Type {
	case "service_account", "authorized_user", "external_account", "external_account_authorized_user", "impersonated_service_account":
	default:
		return nil, fmt.Errorf("%w: %s has no supported type (service_account, external_account, impersonated_service_account, authorized_user, external_account_authorized_user)", inject.ErrAuth, step)
	}
	if u := cf.UniverseDomain; u != "" && u != "googleapis.com" && p.endpoint == "" {
		return nil, fmt.Errorf("gcpsm: %w: %s is for another universe than googleapis.com: set %s to its Secret Manager endpoint", inject.ErrNotConfigured, step, EndpointVar)
	}
	if err := p.checkCredURLs(&cf, step); err != nil {
		return nil, err
	}
	// Token requests carry no deadline of their own: the token source
	// outlives this call (supervise mode refreshes it hours later), so it
	// gets a background context with this provider's client, and each
	// call waits for it under the caller's context (token).
	octx := context.WithValue(context.Background(), oauth2.HTTPClient, p.client)
	// The type was checked above; the library checks the file against it.
	gc, err := google.CredentialsFromJSONWithTypeAndParams(octx, data, google.CredentialsType(cf.Type), google.CredentialsParams{Scopes: []string{scope}})
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s) is not valid; the library's message is not shown: it may quote the file", inject.ErrAuth, step, cf.Type)
	}
	return &credentials{step: step + " (" + cf.Type + ")", ts: gc.TokenSource, project: cf.ProjectID}, nil
}

// checkCredURLs applies the plain-http rule to the addresses a credentials
// file makes requests to. A federation's credential_source may name a
// link-local address in plain http (another cloud's metadata service,
// reached only from its host); that host is then allowed.
func (p *Provider) checkCredURLs(cf *credFile, step string) error {
	for _, u := range []struct{ field, v string }{
		{"token_uri", cf.TokenURI}, {"token_url", cf.TokenURL}, {"token_info_url", cf.TokenInfoURL},
		{"service_account_impersonation_url", cf.ServiceAccountImpersonationURL}, {"revoke_url", cf.RevokeURL},
	} {
		if u.v == "" {
			continue
		}
		if err := inject.CheckEndpoint(u.v, p.allowHTTP, step+": its "+u.field); err != nil {
			return fmt.Errorf("gcpsm: %w", err)
		}
	}
	if cf.SourceCredentials != nil {
		if err := p.checkCredURLs(cf.SourceCredentials, step+": its source_credentials"); err != nil {
			return err
		}
	}
	if cs := cf.CredentialSource; cs != nil {
		for _, u := range []struct{ field, v string }{
			{"credential_source.url", cs.URL}, {"credential_source.region_url", cs.RegionURL},
			{"credential_source.imdsv2_session_token_url", cs.IMDSv2SessionTokenURL},
		} {
			if u.v == "" {
				continue
			}
			pu, err := url.Parse(u.v)
			if err == nil && pu.Scheme == "http" && isLinkLocal(pu.Hostname()) {
				p.route.allowLinkLocal(pu.Host)
				continue
			}
			if err := inject.CheckEndpoint(u.v, p.allowHTTP, step+": its "+u.field); err != nil {
				return fmt.Errorf("gcpsm: %w", err)
			}
		}
	}
	return nil
}

// isLinkLocal reports whether host is a link-local address or AWS's IPv6
// metadata address: the metadata services of the clouds.
func isLinkLocal(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLinkLocalUnicast() || ip.Equal(net.ParseIP("fd00:ec2::254")))
}

// readSmall reads a regular file of at most maxCredFile bytes.
func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCredFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCredFile {
		return nil, errTooLarge
	}
	return b, nil
}

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("larger than 64 KiB")
)

// fileProblem names what is wrong with reading a file, without its path
// or content.
func fileProblem(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	case errors.Is(err, errNotRegular), errors.Is(err, errTooLarge):
		return err.Error()
	}
	return "read error"
}

// token returns an access token.
func (c *credentials) token(ctx context.Context) (string, error) {
	if c.meta != nil {
		return c.meta.token(ctx)
	}
	t, err := inject.Call(ctx, c.ts.Token)
	if err != nil {
		return "", tokenFailure(ctx, c.step, err)
	}
	if t.AccessToken == "" {
		return "", fmt.Errorf("%w: %s gave an empty access token", inject.ErrAuth, c.step)
	}
	return t.AccessToken, nil
}

// projectID returns the credentials' project: a key file's project_id,
// else the metadata server's project, else "".
func (c *credentials) projectID(ctx context.Context) (string, error) {
	if c.project != "" {
		if !validProject(c.project) {
			return "", fmt.Errorf("%w: the project_id of %s is not a project id", inject.ErrNotConfigured, c.step)
		}
		return c.project, nil
	}
	if c.metaProject != nil {
		return c.metaProject(ctx)
	}
	return "", nil
}

// stsStatus finds the HTTP status in the text of x/oauth2's STS and
// impersonation errors.
var stsStatus = regexp.MustCompile(`^oauth2/google: status code (\d{3}): `)

// oauthErrorCode returns the "error" member of an OAuth error answer
// (RFC 6749 5.2), or "".
func oauthErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error
}

// oauthCode matches the OAuth error codes of RFC 6749 and its extensions,
// with their length (at most 40) checked apart: a bounded repetition such as
// {1,40} compiles into one copy of the class per place, 390 allocations at
// every start of the program, a reference to Secret Manager or not.
var oauthCode = regexp.MustCompile(`^[a-z_]+$`)

// tokenFailure classifies a failure to get a token from a credentials
// file's source. A token endpoint that answered 5xx or 429, or could not
// be reached, is worth another attempt; anything else (a rejected key, a
// refused exchange, a bad file) fails at once. Only the OAuth error code
// and the HTTP status are shown: the library's text can quote the file or
// the answer.
func tokenFailure(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", step, ctx.Err())
	}
	var re *refusedError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %w", step, re.err)
	}
	status, code := 0, ""
	var oe *oauth2.RetrieveError
	if errors.As(err, &oe) {
		if oe.Response != nil {
			status = oe.Response.StatusCode
		}
		code = oe.ErrorCode
		if code == "" {
			code = oauthErrorCode(oe.Body)
		}
	} else if m := stsStatus.FindStringSubmatch(err.Error()); m != nil {
		// STS and impersonation errors are text: "status code 400: <body>".
		status, _ = strconv.Atoi(m[1])
		code = oauthErrorCode([]byte(err.Error()[len(m[0]):]))
	}
	if status != 0 {
		if len(code) <= 40 && oauthCode.MatchString(code) {
			code = ", " + code
		} else {
			code = ""
		}
		if status >= 500 || status == 429 {
			return fmt.Errorf("%w: %s: the token endpoint answered HTTP %d%s", inject.ErrUnavailable, step, status, code)
		}
		return fmt.Errorf("%w: %s: the token endpoint refused (HTTP %d%s)", inject.ErrAuth, step, status, code)
	}
	if isNetwork(err) {
		return fmt.Errorf("%w: %s: the token endpoint could not be reached (%s)", inject.ErrUnavailable, step, netProblem(err))
	}
	return fmt.Errorf("%w: %s could not give a token; the library's message is not shown: it may quote the credentials", inject.ErrAuth, step)
}

// metaSource gets tokens from the metadata server, one request at a time,
// and keeps each until a minute before it expires.
type metaSource struct {
	c   *metadata.Client
	sem chan struct{}
	tok string
	exp time.Time
}

func (m *metaSource) token(ctx context.Context) (string, error) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-m.sem }()
	if m.tok != "" && time.Until(m.exp) > time.Minute {
		return m.tok, nil
	}
	body, err := m.c.GetWithContext(ctx, "instance/service-accounts/default/token?scopes="+url.QueryEscape(scope))
	if err != nil {
		return "", metadataFailure("the metadata server's token", err)
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if json.Unmarshal([]byte(body), &t) != nil || t.AccessToken == "" || t.ExpiresIn <= 0 {
		return "", fmt.Errorf("%w: the metadata server's token answer is not a token", inject.ErrAuth)
	}
	m.tok, m.exp = t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn)*time.Second)
	return m.tok, nil
}

// forget drops credentials whose token the service rejected, unless
// another call has replaced them already.
func (p *Provider) forget(c *credentials) {
	p.credSem <- struct{}{}
	defer func() { <-p.credSem }()
	if p.cred == c {
		p.cred = nil
	}
}

// metadataFailure classifies a metadata server failure. The server's answer
// is not shown.
func metadataFailure(what string, err error) error {
	var me *metadata.Error
	var nd metadata.NotDefinedError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errors.As(err, &nd):
		return fmt.Errorf("%w: %s: the metadata server has no service account for this workload (on GKE: workload identity enabled on the cluster and node pool, the pod's Kubernetes service account allowed)", inject.ErrAuth, what)
	case errors.As(err, &me) && (me.Code >= 500 || me.Code == 429):
		return fmt.Errorf("%w: %s: the metadata server answered HTTP %d", inject.ErrUnavailable, what, me.Code)
	case errors.As(err, &me):
		return fmt.Errorf("%w: %s: the metadata server refused (HTTP %d)", inject.ErrAuth, what, me.Code)
	case isNetwork(err):
		// On GKE the metadata server may not answer in a pod's first seconds.
		return fmt.Errorf("%w: %s: the metadata server did not answer (%s)", inject.ErrUnavailable, what, netProblem(err))
	}
	return fmt.Errorf("%w: %s failed", inject.ErrAuth, what)
}

// isNetwork reports whether err is a transport failure: nothing was
// answered.
func isNetwork(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// netProblem names a transport failure without a URL: "connection
// refused", "timeout", "no such host".
func netProblem(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return "no such host"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &op):
		if op.Err != nil {
			s := op.Err.Error()
			if i := strings.LastIndex(s, ": "); i >= 0 {
				s = s[i+2:]
			}
			return op.Op + ": " + trunc(s, 80)
		}
		return op.Op
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed"
	}
	return "transport error"
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
