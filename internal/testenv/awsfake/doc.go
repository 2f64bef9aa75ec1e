// Package awsfake is a test endpoint for AWS Secrets Manager and for the ECS
// container credentials endpoint. It is not AWS: it holds its data in memory,
// serves it on loopback httptest servers, and exists so that code using the
// real aws-sdk-go-v2 client can be tested end to end without network access.
//
// What it is faithful to is the wire protocol the SDK speaks:
//
//   - awsJson1_1: every call is "POST /" with
//     "X-Amz-Target: secretsmanager.<Operation>" and
//     "Content-Type: application/x-amz-json-1.1"; the JSON members are the
//     ones the SDK serializes (SecretId, VersionId, VersionStage,
//     SecretIdList, Filters, MaxResults, NextToken, SortOrder, ...). Answers
//     carry ARN, Name, VersionId, SecretString or SecretBinary (base64),
//     VersionStages and CreatedDate (epoch seconds as a JSON number).
//   - Errors: HTTP 400 for client errors and 500 for InternalServiceError,
//     a JSON body {"__type":"<Code>","Message":"..."} (modeled Secrets
//     Manager errors) or {"__type":"<Code>","message":"..."} (errors of the
//     common AWS front end: authentication, throttling, access denied,
//     validation), and the X-Amzn-ErrorType header.
//   - SigV4: each request's signature is recomputed with the SDK's own signer
//     (aws/signer/v4) from a registry of known credentials; the region is taken
//     from the credential scope and secrets are kept per region.
//
// Operations served: GetSecretValue, BatchGetSecretValue, ListSecrets,
// DescribeSecret, PutSecretValue and CreateSecret. Anything else is
// answered with UnknownOperationException.
//
// Secrets of another account shared by a resource policy (AddSharedSecret)
// are read and described by ARN, as AWS allows across accounts, and never
// listed: ListSecrets lists the caller's own account. DescribeSecret
// answers with the metadata and VersionIdsToStages (ListSecrets' entries
// call the same map SecretVersionsToStages), a secret marked for deletion
// included, with its DeletedDate.
//
// ListSecrets answers with the metadata AWS lists (ARN, Name, Description,
// Tags, CreatedDate, LastChangedDate, SecretVersionsToStages), never a
// value. Where AWS's documentation is silent the fake chooses, and says so:
// secrets are listed by CreatedDate, oldest first, names breaking ties; a
// page holds MaxResults entries (default 100). AWS documents ListSecrets as
// eventually consistent (changes of the last minutes may be missing); the
// fake is always current.
//
// On top of that the Server offers what tests need and AWS does not: data
// helpers (AddSecret, PutVersion, ...), fault injection (deny an operation or
// a secret, throttle or fail the next N requests, add latency, fail KMS
// decryption) and counters of calls per operation and of requested secret ids.
//
// # Parameter Store
//
// The same endpoint answers AWS Systems Manager's parameter operations
// (ssm.go, ssm_ops.go): "X-Amz-Target: AmazonSSM.<Operation>", awsJson1_1,
// SigV4 for the service "ssm", error bodies in the SSM model's shapes
// (ParameterNotFound, ParameterVersionNotFound, InvalidKeyId,
// InternalServerError with status 500, ThrottlingException, ...). Served:
// GetParameter, GetParameters (1 to 10 names; InvalidParameters; the
// selectors name:3 and name:label; answers sorted by name, as AWS documents),
// DescribeParameters (Filters or ParameterFilters with AWS's keys, options
// and limits; MaxResults 1 to 50; NextToken), PutParameter and
// LabelParameterVersion (AWS's name, value-size and label rules; 100
// versions kept). Types String, StringList and SecureString: a SecureString
// is decrypted only WithDecryption (ParameterStore.Decryptions counts it);
// without, the answer holds a random opaque ciphertext. Names under
// /aws/reference/secretsmanager/ read the Server's Secrets Manager secrets
// as AWS documents: WithDecryption required, a staging label or VersionId
// as selector, SourceResult, the secret's ARN, version 0, no Value for a
// binary secret, and Secrets Manager's refusal answered as AWS does
// (ValidationException "An error occurred while calling one AWS dependency
// service.", failing a GetParameters call as a whole). IAM's denial of a
// parameter fails a GetParameters call as a whole, as does KMS refusing a
// key (with decryption only). Parameters of another account, shared with
// the caller's, are read by ARN.
//
// Where AWS's documentation is silent the fake chooses: DescribeParameters
// lists by name, 10 a page by default, and names another account's
// parameter by its ARN; a parameter asked for by ARN is answered with the
// ARN as its Name; a name asked twice is answered once; a name with spaces
// inside, or a hierarchy without its leading '/', fails the call
// (ValidationException); in GetParameter, a missing label is
// ParameterNotFound; a reference's selector that names an existing
// VersionId is a version, else a staging label; SourceResult has the
// members of AWS's documentation example (ARN, Name, VersionId,
// SecretString, VersionStages, CreatedDate); a secret marked for deletion
// fails a GetParameters call as a whole ("Invalid Request to Secrets
// Manager"). Not served: GetParametersByPath, GetParameterHistory,
// DeleteParameter(s), tags, parameter policies.
package awsfake
