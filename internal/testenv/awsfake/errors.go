package awsfake

import (
	"fmt"
	"net/http"
	"strings"
)

// Error codes the fake answers with. The modeled ones are Secrets Manager's
// own exceptions (the SDK turns them into *types.<Code> values); the others
// come from the common AWS front end and reach SDK users as
// *smithy.GenericAPIError with ErrorCode() set to the code.
const (
	// Modeled by Secrets Manager (types.ResourceNotFoundException, ...).
	CodeResourceNotFound     = "ResourceNotFoundException"
	CodeInvalidParameter     = "InvalidParameterException"
	CodeInvalidRequest       = "InvalidRequestException"
	CodeInvalidNextToken     = "InvalidNextTokenException"
	CodeDecryptionFailure    = "DecryptionFailure"
	CodeInternalServiceError = "InternalServiceError"
	CodeResourceExists       = "ResourceExistsException"

	// Not modeled by Secrets Manager: common errors of every AWS JSON service.
	CodeAccessDenied               = "AccessDeniedException"
	CodeThrottling                 = "ThrottlingException"
	CodeValidation                 = "ValidationException"
	CodeSerialization              = "SerializationException"
	CodeUnknownOperation           = "UnknownOperationException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeExpiredToken               = "ExpiredTokenException"
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
)

// Messages AWS uses, where they are known.
const (
	msgSecretNotFound    = "Secrets Manager can't find the specified secret."
	msgDecryption        = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
	msgInternal          = "An error occurred on the server side."
	msgRateExceeded      = "Rate exceeded"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgExpiredToken      = "The security token included in the request is expired"
	msgMissingAuth       = "Request is missing Authentication Token"
	msgMarkedForDelete   = "You can't perform this operation on the secret because it was marked for deletion."
	msgStageMismatch     = "You provided a VersionStage that is not associated to the provided VersionId."
	msgBadNextToken      = "The NextToken value is invalid."
	msgListOrFilters     = "Either 'SecretIdList' or 'Filters' must be provided, but not both."
	msgMaxNeedsFilters   = "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// modeled lists the error shapes of the Secrets Manager model. AWS writes
// their message member as "Message" (the model's casing); the front-end
// errors use "message". The SDK reads either.
var modeled = map[string]bool{
	"DecryptionFailure":                true,
	"EncryptionFailure":                true,
	"InternalServiceError":             true,
	"InvalidNextTokenException":        true,
	"InvalidParameterException":        true,
	"InvalidRequestException":          true,
	"LimitExceededException":           true,
	"MalformedPolicyDocumentException": true,
	"PreconditionNotMetException":      true,
	"PublicPolicyException":            true,
	"ResourceExistsException":          true,
	"ResourceNotFoundException":        true,
}

// apiError is one error answer: HTTP status, __type code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &apiError{status: status, code: code, message: msg}
}

func clientError(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// body is the JSON document AWS sends for the error.
func (e *apiError) body() map[string]string {
	key := "message"
	if modeled[e.code] {
		key = "Message"
	}
	return map[string]string{"__type": e.code, key: e.message}
}

// validation collects constraint violations the way the AWS front end
// reports them: "N validation error(s) detected: A; B".
type validation []string

func (v *validation) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

func (v *validation) length(member string, value *string, min, max int) {
	if value == nil {
		return
	}
	if n := len(*value); n < min {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", *value, member, min)
	} else if n > max {
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", *value, member, max)
	}
}

func (v *validation) required(member string, present bool) {
	if !present {
		v.add("Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
}

func (v validation) err() *apiError {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return clientError(CodeValidation, "1 validation error detected: %s", v[0])
	default:
		return clientError(CodeValidation, "%d validation errors detected: %s", len(v), strings.Join(v, "; "))
	}
}
