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
package awsfake
