package awsfake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// signingName is the SigV4 service name of Secrets Manager.
const signingName = "secretsmanager"

// maxSkew is how far X-Amz-Date may be from the server clock.
const maxSkew = 15 * time.Minute

// Credential is an access key the Server accepts.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must be sent as X-Amz-Security-Token.
	SessionToken string
	// Expires, when set, is when the credential stops working
	// (ExpiredTokenException).
	Expires time.Time
	// Principal is the ARN named in AccessDeniedException messages. The
	// default is arn:aws:iam::<account>:user/awsfake.
	Principal string
}

// AWS returns the credential as the SDK represents it.
func (c Credential) AWS() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		CanExpire:       !c.Expires.IsZero(),
		Expires:         c.Expires,
		Source:          "awsfake",
	}
}

// caller is an authenticated request's identity.
type caller struct {
	cred   Credential
	region string
}

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
type authorization struct {
	accessKeyID   string
	date          string
	region        string
	service       string
	terminator    string
	signedHeaders string
	signature     string
}

func parseAuthorization(h string) (*authorization, *apiError) {
	const algorithm = "AWS4-HMAC-SHA256"
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return nil, clientError(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", alg)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return nil, clientError(CodeIncompleteSignature, "%s Authorization=%s", strings.Join(missing, " "), h)
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 {
		return nil, clientError(CodeIncompleteSignature,
			"Credential should be scoped to a valid region, not '%s'. ", fields["Credential"])
	}
	return &authorization{
		accessKeyID:   scope[0],
		date:          scope[1],
		region:        scope[2],
		service:       scope[3],
		terminator:    scope[4],
		signedHeaders: fields["SignedHeaders"],
		signature:     fields["Signature"],
	}, nil
}

// authenticateFor verifies the request's SigV4 signature for the service
// whose SigV4 name is service ("secretsmanager", "ssm") by signing a copy
// of it, made of the headers the client declared as signed, with the SDK's
// own signer and the secret key registered for the access key id.
func (s *Server) authenticateFor(r *http.Request, body []byte, service string) (*caller, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, clientError(CodeMissingAuthenticationToken, msgMissingAuth)
	}
	a, aerr := parseAuthorization(h)
	if aerr != nil {
		return nil, aerr
	}
	if a.service != service {
		return nil, clientError(CodeInvalidSignature, "Credential should be scoped to correct service: '%s'. ", service)
	}
	if a.terminator != "aws4_request" {
		return nil, clientError(CodeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", a.terminator)
	}
	if a.region == "" {
		return nil, clientError(CodeInvalidSignature, "Credential should be scoped to a valid region. ")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, clientError(CodeIncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", h)
	}
	signTime, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return nil, clientError(CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	if !strings.Contains(";"+a.signedHeaders+";", ";host;") {
		return nil, clientError(CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}

	s.mu.Lock()
	cred, known := s.creds[a.accessKeyID]
	now := s.now()
	if cred.Principal == "" {
		cred.Principal = "arn:aws:iam::" + s.store.account + ":user/awsfake"
	}
	s.mu.Unlock()
	if !known {
		return nil, clientError(CodeUnrecognizedClient, msgInvalidToken)
	}
	if r.Header.Get("X-Amz-Security-Token") != cred.SessionToken {
		return nil, clientError(CodeUnrecognizedClient, msgInvalidToken)
	}
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return nil, clientError(CodeExpiredToken, msgExpiredToken)
	}
	const stamp = "20060102T150405Z"
	if signTime.Before(now.Add(-maxSkew)) {
		return nil, clientError(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-maxSkew).UTC().Format(stamp), now.UTC().Format(stamp))
	}
	if signTime.After(now.Add(maxSkew)) {
		return nil, clientError(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(maxSkew).UTC().Format(stamp), now.UTC().Format(stamp))
	}
	if a.date != amzDate[:8] {
		return nil, clientError(CodeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from 'X-Amz-Date'.",
			a.date, amzDate[:8])
	}

	// Rebuild the request from what the client signed.
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return nil, clientError(CodeInvalidSignature, msgSignatureMismatch)
	}
	req.Host = r.Host
	for _, name := range strings.Split(a.signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			req.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	var canonical, toSign string
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.LogSigning = true
		o.Logger = logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) {
			if len(v) >= 2 {
				canonical, toSign = fmt.Sprint(v[0]), fmt.Sprint(v[1])
			}
		})
	})
	if err := signer.SignHTTP(context.Background(), cred.AWS(), req, hex.EncodeToString(sum[:]),
		service, a.region, signTime); err != nil {
		return nil, clientError(CodeInvalidSignature, msgSignatureMismatch)
	}
	want, _ := parseAuthorization(req.Header.Get("Authorization"))
	if want == nil || want.signedHeaders != a.signedHeaders ||
		!hmac.Equal([]byte(want.signature), []byte(strings.ToLower(a.signature))) {
		return nil, clientError(CodeInvalidSignature,
			"%s\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n",
			msgSignatureMismatch, canonical, toSign)
	}
	return &caller{cred: cred, region: a.region}, nil
}
