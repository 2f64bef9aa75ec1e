package awsfake

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Staging labels Secrets Manager manages itself.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Value is a secret value: a string (SecretString) or bytes (SecretBinary).
type Value struct {
	String   string
	Binary   []byte
	IsBinary bool
}

// StringValue returns a SecretString value.
func StringValue(s string) Value { return Value{String: s} }

// BinaryValue returns a SecretBinary value.
func BinaryValue(b []byte) Value { return Value{Binary: slices.Clone(b), IsBinary: true} }

func (v Value) equal(o Value) bool {
	if v.IsBinary != o.IsBinary {
		return false
	}
	if v.IsBinary {
		return bytes.Equal(v.Binary, o.Binary)
	}
	return v.String == o.String
}

type version struct {
	id      string
	value   Value
	stages  []string
	created time.Time
}

type secret struct {
	region      string
	name        string
	arn         string
	description string
	tags        map[string]string
	created     time.Time
	changed     time.Time // LastChangedDate: a new version or a staging label moved

	versions map[string]*version
	order    []string // version ids, oldest first

	deleted     bool
	deletedAt   time.Time
	decryptFail bool
	denied      bool
}

// byStage returns the version carrying the staging label, or nil.
func (s *secret) byStage(stage string) *version {
	for _, id := range s.order {
		if v := s.versions[id]; slices.Contains(v.stages, stage) {
			return v
		}
	}
	return nil
}

// addVersion stores a new version and moves the given staging labels onto it
// the way PutSecretValue does: each label leaves the version that had it,
// and when AWSCURRENT moves, AWSPREVIOUS goes to the version it left.
func (s *secret) addVersion(v *version, stages []string) {
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	s.versions[v.id] = v
	s.order = append(s.order, v.id)
	s.changed = v.created
	s.moveStages(v, stages)
}

func (s *secret) moveStages(v *version, stages []string) {
	for _, stage := range stages {
		old := s.byStage(stage)
		if old == v {
			continue
		}
		if old != nil {
			old.stages = slices.DeleteFunc(old.stages, func(x string) bool { return x == stage })
			if stage == StageCurrent {
				if prev := s.byStage(StagePrevious); prev != nil {
					prev.stages = slices.DeleteFunc(prev.stages, func(x string) bool { return x == StagePrevious })
				}
				old.stages = append(old.stages, StagePrevious)
			}
		}
		v.stages = append(v.stages, stage)
	}
}

// store holds the caller's account's secrets per region, keyed by name,
// and other accounts' secrets shared with it by a resource policy, keyed
// by full ARN: those are reached by ARN only, and never listed.
type store struct {
	account string
	regions map[string]map[string]*secret
	foreign map[string]*secret
}

func (st *store) region(region string) map[string]*secret {
	m := st.regions[region]
	if m == nil {
		m = map[string]*secret{}
		st.regions[region] = m
	}
	return m
}

func (st *store) create(region, name string, created time.Time) *secret {
	sec := &secret{
		region:   region,
		name:     name,
		arn:      fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, st.account, name, randomSuffix()),
		created:  created,
		changed:  created,
		versions: map[string]*version{},
		tags:     map[string]string{},
	}
	st.region(region)[name] = sec
	return sec
}

// resolve finds a secret from a SecretId the way Secrets Manager does: a
// full ARN, a partial ARN (the ARN without the "-XXXXXX" suffix), or a name.
// An ARN naming another region or account does not resolve.
func (st *store) resolve(region, id string) *secret {
	secrets := st.regions[region]
	if secrets == nil {
		return nil
	}
	if !strings.HasPrefix(id, "arn:") {
		return secrets[id]
	}
	// arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-XXXXXX]
	parts := strings.SplitN(id, ":", 7)
	if len(parts) == 7 && parts[2] == "secretsmanager" && parts[3] == region && parts[4] != st.account && parts[5] == "secret" {
		// Another account's secret: by its full ARN, or its partial one.
		for arn, sec := range st.foreign {
			if arn == id || (len(arn) == len(id)+7 && strings.HasPrefix(arn, id+"-")) {
				return sec
			}
		}
		return nil
	}
	if len(parts) != 7 || parts[2] != "secretsmanager" || parts[3] != region || parts[4] != st.account || parts[5] != "secret" {
		return nil
	}
	for _, sec := range secrets {
		if sec.arn == id {
			return sec
		}
	}
	return secrets[parts[6]] // partial ARN
}

const suffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = suffixAlphabet[int(b[i])%len(suffixAlphabet)]
	}
	return string(b)
}

// newUUID returns a random (version 4) UUID, the form of VersionId and of
// the ClientRequestToken the SDK generates.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
