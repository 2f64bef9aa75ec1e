package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// secretValue is a GetSecretValue answer and a BatchGetSecretValue
// SecretValues entry.
type secretValue struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"` // encoding/json writes []byte as standard base64
	VersionStages []string `json:"VersionStages,omitempty"`
	CreatedDate   float64  `json:"CreatedDate"` // epoch seconds, as awsJson timestamps are
}

// apiErrorEntry is a BatchGetSecretValue Errors entry.
type apiErrorEntry struct {
	SecretID  string `json:"SecretId"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func valueOut(sec *secret, v *version) *secretValue {
	out := &secretValue{
		ARN:           sec.arn,
		Name:          sec.name,
		VersionID:     v.id,
		VersionStages: slices.Clone(v.stages),
		CreatedDate:   epochSeconds(v.created),
	}
	if v.value.IsBinary {
		out.SecretBinary = slices.Clone(v.value.Binary)
	} else {
		str := v.value.String
		out.SecretString = &str
	}
	return out
}

// input is a request body; members are looked up by their exact name, as
// AWS does (encoding/json alone would match case-insensitively).
type input map[string]json.RawMessage

func parseInput(body []byte) (input, *apiError) {
	in := input{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, clientError(CodeSerialization, "%v", err)
	}
	return in, nil
}

// get decodes member name into dst; a missing or null member leaves dst as is.
func (in input) get(name string, dst any) *apiError {
	raw, ok := in[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return clientError(CodeSerialization, "member %s: %v", name, err)
	}
	return nil
}

func (in input) getAll(dsts map[string]any) *apiError {
	for name, dst := range dsts {
		if err := in.get(name, dst); err != nil {
			return err
		}
	}
	return nil
}

// read is GetSecretValue on one id; callers hold s.mu.
func (s *Server) read(who *caller, id, versionID, stage string) (*secretValue, *apiError) {
	sec := s.store.resolve(who.region, id)
	if s.deniedID[who.region+"\x00"+id] || (sec != nil && sec.denied) {
		return nil, accessDenied(who, OpGetSecretValue, id)
	}
	if sec == nil {
		return nil, clientError(CodeResourceNotFound, msgSecretNotFound)
	}
	if sec.deleted {
		return nil, clientError(CodeInvalidRequest, msgMarkedForDelete)
	}
	var v *version
	if versionID != "" {
		v = sec.versions[versionID]
		if v == nil {
			return nil, clientError(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
		}
		if stage != "" && !slices.Contains(v.stages, stage) {
			return nil, clientError(CodeInvalidRequest, msgStageMismatch)
		}
	} else {
		if stage == "" {
			stage = StageCurrent
		}
		if v = sec.byStage(stage); v == nil {
			return nil, clientError(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	if sec.decryptFail {
		return nil, clientError(CodeDecryptionFailure, msgDecryption)
	}
	return valueOut(sec, v), nil
}

func (s *Server) getSecretValue(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var id, versionID, stage *string
	if aerr := in.getAll(map[string]any{"SecretId": &id, "VersionId": &versionID, "VersionStage": &stage}); aerr != nil {
		return nil, aerr
	}
	if id != nil {
		call.SecretIDs = []string{*id}
	}
	var v validation
	v.required("secretId", id != nil)
	v.length("secretId", id, 1, 2048)
	v.length("versionId", versionID, 32, 64)
	v.length("versionStage", stage, 1, 256)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read(who, *id, deref(versionID), deref(stage))
}

type filter struct {
	Key    *string  `json:"Key"`
	Values []string `json:"Values"`
}

var filterKeys = []string{"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

func (s *Server) batchGetSecretValue(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		ids        []string
		filters    []filter
		maxResults *int
		nextToken  *string
	)
	if aerr := in.getAll(map[string]any{"SecretIdList": &ids, "Filters": &filters, "MaxResults": &maxResults, "NextToken": &nextToken}); aerr != nil {
		return nil, aerr
	}
	call.SecretIDs = slices.Clone(ids)
	hasIDs, hasFilters := in["SecretIdList"] != nil && ids != nil, in["Filters"] != nil && filters != nil

	var v validation
	if hasIDs && (len(ids) < 1 || len(ids) > 20) {
		cmp := "less than or equal to 20"
		if len(ids) < 1 {
			cmp = "greater than or equal to 1"
		}
		v.add("Value '[%s]' at 'secretIdList' failed to satisfy constraint: Member must have length %s", strings.Join(ids, ", "), cmp)
	}
	for i := range ids {
		v.length(fmt.Sprintf("secretIdList.%d.member", i+1), &ids[i], 1, 2048)
	}
	if len(filters) > 10 {
		v.add("Value '%v' at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10", filters)
	}
	for i, f := range filters {
		if f.Key != nil && !slices.Contains(filterKeys, *f.Key) {
			v.add("Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				*f.Key, i+1, strings.Join(filterKeys, ", "))
		}
	}
	if maxResults != nil && *maxResults < 1 {
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1", *maxResults)
	}
	if maxResults != nil && *maxResults > 20 {
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20", *maxResults)
	}
	v.length("nextToken", nextToken, 1, 4096)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	if hasIDs == hasFilters {
		return nil, clientError(CodeInvalidParameter, msgListOrFilters)
	}
	if maxResults != nil && !hasFilters {
		return nil, clientError(CodeInvalidParameter, msgMaxNeedsFilters)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		SecretValues []*secretValue  `json:"SecretValues"`
		Errors       []apiErrorEntry `json:"Errors"`
		NextToken    *string         `json:"NextToken,omitempty"`
	}{SecretValues: []*secretValue{}, Errors: []apiErrorEntry{}}
	fetch := func(id string) {
		val, aerr := s.read(who, id, "", "")
		if aerr != nil {
			out.Errors = append(out.Errors, apiErrorEntry{SecretID: id, ErrorCode: aerr.code, Message: aerr.message})
			return
		}
		out.SecretValues = append(out.SecretValues, val)
	}
	if hasIDs {
		for _, id := range ids {
			fetch(id)
		}
		return out, nil
	}

	if s.deniedOp[OpListSecrets] {
		return nil, accessDenied(who, OpListSecrets, "")
	}
	var matched []*secret
	for _, sec := range s.store.regions[who.region] {
		if !sec.deleted && matchesAll(sec, filters) {
			matched = append(matched, sec)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].name < matched[j].name })
	start, end, next, err := page(len(matched), nextToken, maxResults, 20)
	if err != nil {
		return nil, err
	}
	for _, sec := range matched[start:end] {
		fetch(sec.name)
	}
	out.NextToken = next
	return out, nil
}

// page returns the slice [start, end) of n items that a paged call with
// nextToken and maxResults (defaultSize when nil) answers, and the token of
// the next page, nil on the last.
func page(n int, nextToken *string, maxResults *int, defaultSize int) (start, end int, next *string, err *apiError) {
	if nextToken != nil {
		var ok bool
		if start, ok = decodeToken(*nextToken); !ok || start > n {
			return 0, 0, nil, clientError(CodeInvalidNextToken, msgBadNextToken)
		}
	}
	size := defaultSize
	if maxResults != nil {
		size = *maxResults
	}
	end = min(start+size, n)
	if end < n {
		tok := encodeToken(end)
		next = &tok
	}
	return start, end, next, nil
}

func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("awsfake/offset/" + strconv.Itoa(offset)))
}

func decodeToken(tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "awsfake/offset/"))
	return n, err == nil && n >= 0 && strings.HasPrefix(string(raw), "awsfake/offset/")
}

// matchesAll applies ListSecrets filter semantics: filters are ANDed, the
// values of one filter ORed, a value starting with "!" negates, matching
// is by prefix (case-insensitive for description and all).
func matchesAll(sec *secret, filters []filter) bool {
	for _, f := range filters {
		if f.Key == nil || !matchesFilter(sec, *f.Key, f.Values) {
			return false
		}
	}
	return true
}

func matchesFilter(sec *secret, key string, values []string) bool {
	for _, val := range values {
		negate := strings.HasPrefix(val, "!")
		val = strings.TrimPrefix(val, "!")
		if matchesValue(sec, key, val) != negate {
			return true
		}
	}
	return false
}

func matchesValue(sec *secret, key, val string) bool {
	lowerPrefix := func(s string) bool { return strings.HasPrefix(strings.ToLower(s), strings.ToLower(val)) }
	switch key {
	case "name":
		return strings.HasPrefix(sec.name, val)
	case "description":
		return lowerPrefix(sec.description)
	case "tag-key":
		for k := range sec.tags {
			if strings.HasPrefix(k, val) {
				return true
			}
		}
	case "tag-value":
		for _, tv := range sec.tags {
			if strings.HasPrefix(tv, val) {
				return true
			}
		}
	case "primary-region":
		return strings.HasPrefix(sec.region, val)
	case "all":
		words := []string{sec.name, sec.description, sec.region}
		for k, tv := range sec.tags {
			words = append(words, k, tv)
		}
		for _, w := range words {
			if lowerPrefix(w) {
				return true
			}
		}
	}
	return false
}

// newValue reads SecretString / SecretBinary of a Put or Create request.
func newValue(str *string, bin []byte, present bool) (Value, bool, *apiError) {
	switch {
	case str != nil && bin != nil:
		return Value{}, false, clientError(CodeInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str != nil:
		return StringValue(*str), true, nil
	case bin != nil || present:
		return BinaryValue(bin), true, nil
	}
	return Value{}, false, nil
}

func (s *Server) putSecretValue(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		id, token, str *string
		bin            []byte
		stages         []string
	)
	if aerr := in.getAll(map[string]any{"SecretId": &id, "ClientRequestToken": &token, "SecretString": &str,
		"SecretBinary": &bin, "VersionStages": &stages}); aerr != nil {
		return nil, aerr
	}
	if id != nil {
		call.SecretIDs = []string{*id}
	}
	var v validation
	v.required("secretId", id != nil)
	v.length("secretId", id, 1, 2048)
	v.length("clientRequestToken", token, 32, 64)
	if str != nil && (len(*str) < 1 || len(*str) > 65536) {
		// Sensitive members are reported without their value.
		v.add("Value at 'secretString' failed to satisfy constraint: Member must have length between 1 and 65536")
	}
	if len(bin) > 65536 {
		v.add("Value at 'secretBinary' failed to satisfy constraint: Member must have length less than or equal to 65536")
	}
	if in["VersionStages"] != nil && (len(stages) < 1 || len(stages) > 20) {
		v.add("Value '[%s]' at 'versionStages' failed to satisfy constraint: Member must have length between 1 and 20", strings.Join(stages, ", "))
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	value, ok, aerr := newValue(str, bin, in["SecretBinary"] != nil && string(in["SecretBinary"]) != "null")
	if aerr != nil {
		return nil, aerr
	}
	if !ok {
		return nil, clientError(CodeInvalidRequest, "You must provide either SecretString or SecretBinary.")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.store.resolve(who.region, *id)
	if s.deniedID[who.region+"\x00"+*id] || (sec != nil && sec.denied) {
		return nil, accessDenied(who, OpPutSecretValue, *id)
	}
	if sec == nil {
		return nil, clientError(CodeResourceNotFound, msgSecretNotFound)
	}
	if sec.deleted {
		return nil, clientError(CodeInvalidRequest, msgMarkedForDelete)
	}
	versionID := deref(token)
	if versionID == "" {
		versionID = newUUID()
	}
	if old := sec.versions[versionID]; old != nil {
		if !old.value.equal(value) {
			return nil, clientError(CodeResourceExists, "You can't modify an existing version, you can only create a new version.")
		}
	} else {
		sec.addVersion(&version{id: versionID, value: value, created: s.now()}, stages)
	}
	return map[string]any{
		"ARN":           sec.arn,
		"Name":          sec.name,
		"VersionId":     versionID,
		"VersionStages": slices.Clone(sec.versions[versionID].stages),
	}, nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)

func (s *Server) createSecret(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		name, token, str, desc *string
		bin                    []byte
		tags                   []struct{ Key, Value string }
	)
	if aerr := in.getAll(map[string]any{"Name": &name, "ClientRequestToken": &token, "SecretString": &str,
		"SecretBinary": &bin, "Description": &desc, "Tags": &tags}); aerr != nil {
		return nil, aerr
	}
	if name != nil {
		call.SecretIDs = []string{*name}
	}
	var v validation
	v.required("name", name != nil)
	v.length("name", name, 1, 512)
	v.length("clientRequestToken", token, 32, 64)
	v.length("description", desc, 0, 2048)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	if !validName.MatchString(*name) {
		return nil, clientError(CodeInvalidParameter, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	value, hasValue, aerr := newValue(str, bin, in["SecretBinary"] != nil && string(in["SecretBinary"]) != "null")
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedID[who.region+"\x00"+*name] {
		return nil, accessDenied(who, OpCreateSecret, *name)
	}
	versionID := deref(token)
	if existing := s.store.regions[who.region][*name]; existing != nil {
		// A retried CreateSecret with the same token and value is idempotent.
		if old := existing.versions[versionID]; old != nil && hasValue && old.value.equal(value) {
			return map[string]any{"ARN": existing.arn, "Name": existing.name, "VersionId": versionID}, nil
		}
		return nil, clientError(CodeResourceExists, "The operation failed because the secret %s already exists.", *name)
	}
	sec := s.store.create(who.region, *name, s.now())
	sec.description = deref(desc)
	for _, t := range tags {
		sec.tags[t.Key] = t.Value
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if hasValue {
		if versionID == "" {
			versionID = newUUID()
		}
		sec.addVersion(&version{id: versionID, value: value, created: sec.created}, nil)
		out["VersionId"] = versionID
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
