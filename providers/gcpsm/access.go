package gcpsm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/n8n-secrets/n8n-secrets/inject"
)

// castagnoli is the CRC32C table Secret Manager's checksums use.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FetchRef reads the version r names with versions.access (GET
// …/versions/<v>:access), which needs secretmanager.versions.access
// (roles/secretmanager.secretAccessor). The payload's data is the value;
// its dataCrc32c, when the API returns one, must match the data. The
// version number the API answers with is the payload's Version.
func (p *Provider) FetchRef(ctx context.Context, r Ref) (inject.Payload, error) {
	var out struct {
		Name    string `json:"name"`
		Payload *struct {
			Data       *string    `json:"data"`
			DataCrc32c *jsonInt64 `json:"dataCrc32c"`
		} `json:"payload"`
	}
	if err := p.call(ctx, "get", r, ":access", &out); err != nil {
		return inject.Payload{}, err
	}
	if out.Payload == nil || out.Payload.Data == nil {
		return inject.Payload{}, fmt.Errorf("gcpsm: get %s: %w: the answer has no payload data", r.Path(), inject.ErrBadData)
	}
	data, err := base64.StdEncoding.DecodeString(*out.Payload.Data)
	if err != nil {
		return inject.Payload{}, fmt.Errorf("gcpsm: get %s: %w: the payload data is not base64", r.Path(), inject.ErrBadData)
	}
	if c := out.Payload.DataCrc32c; c != nil && int64(crc32.Checksum(data, castagnoli)) != int64(*c) {
		return inject.Payload{}, fmt.Errorf("gcpsm: get %s: %w: the payload does not match its CRC32C checksum (dataCrc32c): it was corrupted on the way", r.Path(), inject.ErrBadData)
	}
	v, err := versionOf(out.Name)
	if err != nil {
		return inject.Payload{}, fmt.Errorf("gcpsm: get %s: %w", r.Path(), err)
	}
	return inject.Payload{Value: inject.NewSecret(data), Version: v}, nil
}

// versionOf returns the version number at the end of a version's resource
// name (projects/123/secrets/s/versions/7).
func versionOf(name string) (string, error) {
	i := strings.LastIndex(name, "/versions/")
	v := ""
	if i >= 0 {
		v = name[i+len("/versions/"):]
	}
	if n, err := strconv.ParseUint(v, 10, 64); err != nil || n == 0 {
		return "", fmt.Errorf("%w: the answer does not name a version number", inject.ErrBadData)
	}
	return v, nil
}

// WatchRefs returns, for each reference, the number of the version it
// resolves to now, from versions.get (GET …/versions/<v>), which answers
// with the version's metadata and never its payload: one request per
// reference, which needs secretmanager.versions.get (roles/secretmanager.viewer
// on the secret; secretAccessor does not include it). The stamp equals
// the Version of FetchRef's payload for the same version. A version that
// is not ENABLED (disabled, destroyed) wraps inject.ErrNotFound, as FetchRef
// would; a denial wraps inject.ErrPermission, and the caller then reads the
// secret to compare.
func (p *Provider) WatchRefs(ctx context.Context, rs []Ref) []inject.WatchResult {
	res := make([]inject.WatchResult, len(rs))
	done := make(chan struct{})
	sem := make(chan struct{}, 16)
	for i, r := range rs {
		go func() {
			defer func() { done <- struct{}{} }()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res[i].Err = fmt.Errorf("gcpsm: watch %s: %w", r.Path(), ctx.Err())
				return
			}
			defer func() { <-sem }()
			res[i].Stamp, res[i].Err = p.watch(ctx, r)
		}()
	}
	for range rs {
		<-done
	}
	return res
}

func (p *Provider) watch(ctx context.Context, r Ref) (string, error) {
	var out struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	if err := p.call(ctx, "watch", r, "", &out); err != nil {
		if errors.Is(err, inject.ErrPermission) {
			return "", fmt.Errorf("%w; allow secretmanager.versions.get (roles/secretmanager.viewer on the secret) to detect new versions without reading them", err)
		}
		return "", err
	}
	v, err := versionOf(out.Name)
	if err != nil {
		return "", fmt.Errorf("gcpsm: watch %s: %w", r.Path(), err)
	}
	if out.State != "ENABLED" {
		return "", fmt.Errorf("gcpsm: watch %s: %w: version %s is %s", r.Path(), inject.ErrNotFound, v, stateWord(out.State))
	}
	return v, nil
}

func stateWord(s string) string {
	switch s {
	case "DISABLED", "DESTROYED":
		return strings.ToLower(s)
	}
	return "not enabled"
}

// call sends GET <endpoint>/v1/<version name><suffix> with a bearer token
// and decodes the answer into out. op ("get", "watch") prefixes errors.
func (p *Provider) call(ctx context.Context, op string, r Ref, suffix string, out any) error {
	fail := func(err error) error { return fmt.Errorf("gcpsm: %s %s: %w", op, r.Path(), err) }
	c, err := p.creds(ctx)
	if err != nil {
		return fail(err)
	}
	project, err := p.project(ctx, r, c)
	if err != nil {
		return err
	}
	tok, err := c.token(ctx)
	if err != nil {
		return fail(err)
	}
	u := p.baseURL(r) + "/v1/" + r.name(project) + suffix
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(fmt.Errorf("%w: cannot build the request URL", inject.ErrNotConfigured))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fail(transportFailure(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fail(fmt.Errorf("%w: the answer was cut (%s)", inject.ErrUnavailable, netProblem(err)))
	}
	if len(body) > maxBody {
		return fail(fmt.Errorf("%w: the answer is larger than 1 MiB", inject.ErrBadData))
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized {
			// A token revoked before it expired: the next call loads
			// the credentials again and gets a new one.
			p.forget(c)
		}
		return fail(apiFailure(resp.StatusCode, body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fail(fmt.Errorf("%w: the answer is not Secret Manager's JSON", inject.ErrBadData))
	}
	return nil
}

// transportFailure classifies an error of the HTTP client: nothing was
// answered.
func transportFailure(ctx context.Context, err error) error {
	var re *refusedError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &re):
		return re.err
	case errors.Is(err, errRedirect):
		return fmt.Errorf("the endpoint answered with a redirect, which is not followed")
	}
	return fmt.Errorf("%w: Secret Manager could not be reached (%s)", inject.ErrUnavailable, netProblem(err))
}

// apiFailure maps an error answer, Google's {"error":{"code","message",
// "status"}}, to the core's sentinels. The message (resource names, never
// a value) is shown, cut short; an answer that is not Google's JSON (a
// proxy's page) is not.
func apiFailure(code int, body []byte) error {
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	status, msg := e.Error.Status, clean(e.Error.Message)
	detail := fmt.Sprintf("(HTTP %d)", code)
	if status != "" {
		detail = fmt.Sprintf("(%s: %s)", status, msg)
	}
	switch {
	case status == "NOT_FOUND" || status == "" && code == http.StatusNotFound:
		return fmt.Errorf("%w %s", inject.ErrNotFound, detail)
	case status == "FAILED_PRECONDITION" && (strings.Contains(msg, "DISABLED") || strings.Contains(msg, "DESTROYED")):
		state := "disabled"
		if strings.Contains(msg, "DESTROYED") {
			state = "destroyed"
		}
		return fmt.Errorf("%w: the version is %s and cannot be read (enable it, or point the reference at an enabled version) %s", inject.ErrNotFound, state, detail)
	case status == "PERMISSION_DENIED" || status == "" && code == http.StatusForbidden:
		return fmt.Errorf("%w %s", inject.ErrPermission, detail)
	case status == "UNAUTHENTICATED" || status == "" && code == http.StatusUnauthorized:
		return fmt.Errorf("%w: Secret Manager rejected the access token %s", inject.ErrAuth, detail)
	case status == "INVALID_ARGUMENT":
		return fmt.Errorf("%w: Secret Manager refused the name %s", inject.ErrBadReference, detail)
	case status == "RESOURCE_EXHAUSTED", status == "UNAVAILABLE", status == "INTERNAL", status == "DEADLINE_EXCEEDED",
		status == "ABORTED", status == "UNKNOWN", code == http.StatusTooManyRequests, code >= 500:
		return fmt.Errorf("%w %s", inject.ErrUnavailable, detail)
	case code == http.StatusProxyAuthRequired:
		return fmt.Errorf("%w: the HTTP proxy wants credentials (HTTP 407)", inject.ErrNotConfigured)
	}
	return errors.New(detail[1 : len(detail)-1])
}

// clean cuts msg short and drops control characters.
func clean(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	return trunc(msg, 200)
}

// jsonInt64 is an int64 as proto3's JSON mapping writes it: a decimal
// string ("123"); a bare number is accepted too.
type jsonInt64 int64

func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an int64")
	}
	*n = jsonInt64(v)
	return nil
}
