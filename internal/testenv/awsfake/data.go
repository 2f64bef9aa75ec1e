package awsfake

import (
	"fmt"
	"slices"
	"time"
)

// SecretRef identifies a secret the test created.
type SecretRef struct {
	Region    string
	Name      string
	ARN       string // full ARN, with the 6-character suffix
	VersionID string // the version created with the secret
}

// PartialARN is the ARN without its "-XXXXXX" suffix, which Secrets
// Manager also accepts as SecretId.
func (r SecretRef) PartialARN() string { return r.ARN[:len(r.ARN)-7] }

// VersionInfo describes one stored version of a secret.
type VersionInfo struct {
	VersionID string
	Stages    []string
	Value     Value
	Created   time.Time
}

// SecretOption configures AddSecret and AddBinarySecret.
type SecretOption func(*secretOptions)

type secretOptions struct {
	versionID   string
	description string
	tags        map[string]string
	created     time.Time
}

// WithVersionID sets the VersionId of the first version (default: a random UUID).
func WithVersionID(id string) SecretOption { return func(o *secretOptions) { o.versionID = id } }

// WithDescription sets the secret's description (matched by the "description" filter).
func WithDescription(d string) SecretOption { return func(o *secretOptions) { o.description = d } }

// WithTag adds a tag (matched by the "tag-key" and "tag-value" filters).
func WithTag(key, value string) SecretOption {
	return func(o *secretOptions) {
		if o.tags == nil {
			o.tags = map[string]string{}
		}
		o.tags[key] = value
	}
}

// WithCreatedDate sets CreatedDate of the secret and its first version.
func WithCreatedDate(t time.Time) SecretOption { return func(o *secretOptions) { o.created = t } }

// AddSecret stores a string secret in region, its value labeled AWSCURRENT.
// The test fails if the name is taken in that region.
func (s *Server) AddSecret(region, name, value string, opts ...SecretOption) SecretRef {
	s.t.Helper()
	return s.addSecret(region, name, StringValue(value), opts)
}

// AddBinarySecret stores a binary secret (SecretBinary) in region.
func (s *Server) AddBinarySecret(region, name string, value []byte, opts ...SecretOption) SecretRef {
	s.t.Helper()
	return s.addSecret(region, name, BinaryValue(value), opts)
}

func (s *Server) addSecret(region, name string, value Value, opts []SecretOption) SecretRef {
	s.t.Helper()
	o := secretOptions{versionID: newUUID()}
	for _, fn := range opts {
		fn(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.created.IsZero() {
		o.created = s.now()
	}
	if s.store.regions[region][name] != nil {
		s.t.Fatalf("awsfake: secret %q already exists in %s", name, region)
	}
	sec := s.store.create(region, name, o.created)
	sec.description = o.description
	for k, v := range o.tags {
		sec.tags[k] = v
	}
	sec.addVersion(&version{id: o.versionID, value: value, created: o.created}, nil)
	return SecretRef{Region: region, Name: name, ARN: sec.arn, VersionID: o.versionID}
}

// AddSharedSecret stores a string secret of another account (owner), in
// region, that a resource policy shares with the caller's account: it is
// read and described by its ARN (the full one returned, or the partial
// one), as AWS allows across accounts, and ListSecrets, which lists the
// caller's own account only, never shows it.
func (s *Server) AddSharedSecret(region, owner, name, value string) SecretRef {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner == s.store.account {
		s.t.Fatalf("awsfake: AddSharedSecret: %s is the caller's own account", owner)
	}
	now := s.now()
	sec := &secret{region: region, name: name, created: now, changed: now, versions: map[string]*version{}, tags: map[string]string{},
		arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, owner, name, randomSuffix())}
	id := newUUID()
	sec.addVersion(&version{id: id, value: StringValue(value), created: now}, nil)
	s.store.foreign[sec.arn] = sec
	return SecretRef{Region: region, Name: name, ARN: sec.arn, VersionID: id}
}

// PutVersion adds a version to a secret (by name or ARN) as PutSecretValue
// does and returns its VersionId. The stages default to AWSCURRENT; when
// AWSCURRENT moves, the version that had it becomes AWSPREVIOUS. Passing
// only StagePending stages a rotation without changing what readers get.
func (s *Server) PutVersion(region, secretID string, value Value, stages ...string) string {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.mustResolve(region, secretID)
	id := newUUID()
	sec.addVersion(&version{id: id, value: value, created: s.now()}, stages)
	return id
}

// MoveStages attaches staging labels to an existing version (as
// UpdateSecretVersionStage does), e.g. to finish a rotation by moving
// AWSCURRENT onto the AWSPENDING version.
func (s *Server) MoveStages(region, secretID, versionID string, stages ...string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.mustResolve(region, secretID)
	v := sec.versions[versionID]
	if v == nil {
		s.t.Fatalf("awsfake: secret %q has no version %q", secretID, versionID)
	}
	sec.moveStages(v, stages)
	sec.changed = s.now()
}

// DeleteSecret marks a secret for deletion: reads then fail with
// InvalidRequestException, as during the recovery window.
func (s *Server) DeleteSecret(region, secretID string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.mustResolve(region, secretID)
	sec.deleted, sec.deletedAt = true, s.now()
}

// Versions lists the versions of a secret, oldest first.
func (s *Server) Versions(region, secretID string) []VersionInfo {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.mustResolve(region, secretID)
	var out []VersionInfo
	for _, id := range sec.order {
		v := sec.versions[id]
		out = append(out, VersionInfo{VersionID: v.id, Stages: slices.Clone(v.stages), Value: v.value, Created: v.created})
	}
	return out
}
