package awsfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// parameterStore is the Parameter Store endpoint: counted and logged as
// Secrets Manager's, authenticated for the service "ssm", its errors in
// the SSM model's shapes.
func (s *Server) parameterStore() endpoint {
	return endpoint{signingName: ssmSigningName,
		handlers: map[string]func(*caller, []byte, *Call) (any, *apiError){
			OpGetParameter: s.getParameter, OpGetParameters: s.getParameters,
			OpDescribeParameters: s.describeParameters, OpPutParameter: s.putParameter,
			OpLabelParameterVersion: s.labelParameterVersion,
		},
		faults: &s.ssm.faults, denied: &s.ssm.deniedOp, deny: ssmAccessDenied,
		errorBody: func(e *apiError) any { return ssmBody(e) }}
}

// ssmAccessDenied is IAM's denial of ssm:<op> (on resource, if given).
func ssmAccessDenied(who *caller, op, resource string) *apiError {
	on := ""
	if resource != "" {
		on = " on resource: " + resource
	}
	return clientError(CodeAccessDenied,
		"User: %s is not authorized to perform: ssm:%s%s because no identity-based policy allows the ssm:%s action",
		who.cred.Principal, op, on, op)
}

// kmsAccessDenied is KMS's refusal of a key, as Parameter Store passes it on.
func kmsAccessDenied() *apiError {
	return clientError(CodeAccessDenied, "%s (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: %s; Proxy: null)",
		MsgKMSAccessDenied, newUUID())
}

// parameterOut is a Parameter of a GetParameter or GetParameters answer.
type parameterOut struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            *string `json:"Value,omitempty"`
	Version          int64   `json:"Version"`
	Selector         string  `json:"Selector,omitempty"`
	SourceResult     string  `json:"SourceResult,omitempty"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType,omitempty"`
}

// sourceResult is the Secrets Manager answer that SourceResult carries, in
// the shape of AWS's documentation (GetSecretValue's members).
type sourceResult struct {
	CreatedDate   float64  `json:"CreatedDate"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	ARN           string   `json:"ARN"`
}

// lookup is one requested name, resolved without reading its value.
type lookup struct {
	raw      string // as sent
	name     string // without spaces around it and without the selector
	selector string // "" or ":<version or label>"
	byARN    bool

	malformed bool // more than one selector, an empty one, a bad ARN

	// A parameter.
	p              *parameter
	v              *paramVersion
	versionMissing bool // the parameter exists, the version or label does not

	// A reference to a Secrets Manager secret.
	ref      bool
	secretID string
	sec      *secret
	sv       *version
}

// stageChars are the characters Parameter Store accepts in a Secrets
// Manager version stage it is given.
var stageChars = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// resolveName resolves a requested name for the caller. A name with spaces
// inside, or with a '/' but not fully qualified, fails the call. Callers
// hold s.mu.
func (s *Server) resolveName(who *caller, raw string) (*lookup, *apiError) {
	lk := &lookup{raw: raw}
	n := strings.TrimSpace(raw)
	if strings.ContainsAny(n, " \t") {
		return nil, clientError(CodeValidation, "Parameter name: can't contain spaces.")
	}
	if rest, ok := strings.CutPrefix(n, SecretsManagerReferencePrefix); ok {
		lk.ref = true
		id, sel, hasSel := strings.Cut(rest, ":")
		lk.name, lk.secretID = SecretsManagerReferencePrefix+id, id
		if hasSel {
			lk.selector = ":" + sel
			if sel == "" || strings.Contains(sel, ":") {
				lk.malformed = true
				return lk, nil
			}
		}
		if id == "" {
			return lk, nil
		}
		lk.sec = s.store.resolve(who.region, id)
		if lk.sec == nil || lk.sec.deleted {
			return lk, nil
		}
		switch {
		case sel == "":
			lk.sv = lk.sec.byStage(StageCurrent)
		case lk.sec.versions[sel] != nil:
			lk.sv = lk.sec.versions[sel]
		case stageChars.MatchString(sel):
			lk.sv = lk.sec.byStage(sel)
		}
		return lk, nil
	}

	var k paramKey
	if strings.HasPrefix(n, "arn:") {
		lk.byARN = true
		f := strings.SplitN(n, ":", 6)
		if len(f) != 6 {
			lk.malformed, lk.name = true, n
			return lk, nil
		}
		res, sel, hasSel := strings.Cut(f[5], ":")
		base := strings.Join(append(f[:5:5], res), ":")
		var ok bool
		if k, ok = parseParamARN(base); !ok || k.region != who.region {
			lk.name = base
			return lk, nil
		}
		lk.name = base
		if hasSel {
			lk.selector = ":" + sel
		}
	} else {
		name, sel, hasSel := strings.Cut(n, ":")
		if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
			return nil, clientError(CodeValidation, msgNotFullyQualified)
		}
		lk.name = name
		if hasSel {
			lk.selector = ":" + sel
		}
		k = paramKey{s.store.account, who.region, name}
	}
	if sel := strings.TrimPrefix(lk.selector, ":"); lk.selector != "" && (sel == "" || strings.Contains(sel, ":")) {
		lk.malformed = true
		return lk, nil
	}
	lk.p = s.ssm.params[k]
	if lk.p == nil || len(lk.p.versions) == 0 {
		return lk, nil
	}
	switch sel := strings.TrimPrefix(lk.selector, ":"); {
	case sel == "":
		lk.v = lk.p.latest()
	case strings.Trim(sel, "0123456789") == "":
		if n, err := strconv.ParseInt(sel, 10, 64); err == nil {
			lk.v = lk.p.version(n)
		}
	default:
		lk.v = lk.p.byLabel(sel)
	}
	lk.versionMissing = lk.v == nil
	return lk, nil
}

// deniedResource returns the ARN IAM refuses the caller, if any.
func (lk *lookup) deniedResource() string {
	if lk.p != nil && lk.p.denied {
		return lk.p.arn()
	}
	return ""
}

// dependencyFailure reports whether Secrets Manager refuses the caller the
// secret a reference names (IAM, or KMS on the secret's key).
func (s *Server) dependencyFailure(who *caller, lk *lookup) bool {
	if !lk.ref || lk.malformed || lk.secretID == "" {
		return false
	}
	return s.deniedID[who.region+"\x00"+lk.secretID] || (lk.sec != nil && (lk.sec.denied || lk.sec.decryptFail))
}

// out builds the answer for a resolved lookup, decrypting when asked.
// Callers hold s.mu and have checked that lk.v or lk.sv is set.
func (s *Server) out(lk *lookup, decrypt bool) parameterOut {
	if lk.ref {
		sec, v := lk.sec, lk.sv
		src := sourceResult{CreatedDate: epochSeconds(v.created), Name: sec.name, VersionID: v.id,
			VersionStages: slices.Clone(v.stages), ARN: sec.arn}
		o := parameterOut{Name: lk.name, Type: string(SecureString), Selector: lk.selector,
			LastModifiedDate: epochSeconds(v.created), ARN: sec.arn}
		if v.value.IsBinary {
			src.SecretBinary = slices.Clone(v.value.Binary)
		} else {
			str := v.value.String
			src.SecretString, o.Value = &str, &str
		}
		b, _ := json.Marshal(src)
		o.SourceResult = string(b)
		return o
	}
	p, v := lk.p, lk.v
	o := parameterOut{Name: p.key.name, Type: string(p.typ), Version: v.number, Selector: lk.selector,
		LastModifiedDate: epochSeconds(v.modified), ARN: p.arn(), DataType: p.dataType}
	if lk.byARN {
		o.Name = lk.name
	}
	value := v.value
	if p.typ == SecureString {
		if decrypt {
			s.ssm.decrypts++
		} else {
			value = v.cipher
		}
	}
	o.Value = &value
	return o
}

func (s *Server) getParameters(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		names   []string
		decrypt *bool
	)
	if aerr := in.getAll(map[string]any{"Names": &names, "WithDecryption": &decrypt}); aerr != nil {
		return nil, aerr
	}
	call.Names = slices.Clone(names)
	var v validation
	v.required("names", in["Names"] != nil && names != nil)
	if names != nil && (len(names) < 1 || len(names) > 10) {
		cmp := "less than or equal to 10"
		if len(names) < 1 {
			cmp = "greater than or equal to 1"
		}
		v.add("Value '[%s]' at 'names' failed to satisfy constraint: Member must have length %s", strings.Join(names, ", "), cmp)
	}
	for i := range names {
		v.length(fmt.Sprintf("names.%d.member", i+1), &names[i], 1, 2048)
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	withDecryption := decrypt != nil && *decrypt

	s.mu.Lock()
	defer s.mu.Unlock()
	var lks []*lookup
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue // asked twice, answered once
		}
		seen[n] = true
		lk, aerr := s.resolveName(who, n)
		if aerr != nil {
			return nil, aerr
		}
		lks = append(lks, lk)
	}
	// IAM is asked before anything is looked up: one refused name fails
	// the call, whether or not it exists.
	for _, lk := range lks {
		if arn := lk.deniedResource(); arn != "" {
			return nil, ssmAccessDenied(who, OpGetParameters, arn)
		}
	}
	for _, lk := range lks {
		if withDecryption && s.dependencyFailure(who, lk) {
			return nil, clientError(CodeValidation, MsgDependencyFailed)
		}
		if withDecryption && lk.ref && lk.sec != nil && lk.sec.deleted && !lk.malformed {
			return nil, clientError(CodeValidation, MsgSecretInvalidRequest)
		}
	}
	out := struct {
		Parameters        []parameterOut `json:"Parameters"`
		InvalidParameters []string       `json:"InvalidParameters"`
	}{Parameters: []parameterOut{}, InvalidParameters: []string{}}
	var answered []*lookup
	for _, lk := range lks {
		found := !lk.malformed && (lk.v != nil || lk.sv != nil)
		if lk.ref && !withDecryption {
			found = false
		}
		if !found {
			out.InvalidParameters = append(out.InvalidParameters, lk.raw)
			continue
		}
		if withDecryption && lk.p != nil && lk.p.typ == SecureString && lk.p.kmsDenied {
			return nil, kmsAccessDenied()
		}
		answered = append(answered, lk)
	}
	for _, lk := range answered {
		out.Parameters = append(out.Parameters, s.out(lk, withDecryption))
	}
	sort.SliceStable(out.Parameters, func(i, j int) bool {
		a, b := out.Parameters[i], out.Parameters[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Selector < b.Selector
	})
	return out, nil
}

func (s *Server) getParameter(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		name    *string
		decrypt *bool
	)
	if aerr := in.getAll(map[string]any{"Name": &name, "WithDecryption": &decrypt}); aerr != nil {
		return nil, aerr
	}
	if name != nil {
		call.Names = []string{*name}
	}
	var v validation
	v.required("name", name != nil)
	v.length("name", name, 1, 2048)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	withDecryption := decrypt != nil && *decrypt

	s.mu.Lock()
	defer s.mu.Unlock()
	lk, aerr := s.resolveName(who, *name)
	if aerr != nil {
		return nil, aerr
	}
	if lk.ref {
		switch {
		case lk.malformed:
			return nil, clientError(CodeValidation, MsgBadSelector)
		case !withDecryption:
			return nil, clientError(CodeValidation, MsgNeedsDecryption)
		case s.dependencyFailure(who, lk):
			return nil, clientError(CodeValidation, MsgDependencyFailed)
		case lk.sec != nil && lk.sec.deleted:
			return nil, clientError(CodeValidation, MsgSecretInvalidRequest)
		case lk.sv == nil:
			sel := lk.selector
			if sel == "" {
				sel = "null"
			}
			return nil, clientError(CodeParameterNotFound,
				"An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret %s%s not found.",
				strings.TrimPrefix(lk.name, "/"), sel)
		}
		return map[string]any{"Parameter": s.out(lk, true)}, nil
	}
	if arn := lk.deniedResource(); arn != "" {
		return nil, ssmAccessDenied(who, OpGetParameter, arn)
	}
	switch {
	case lk.malformed || lk.p == nil || len(lk.p.versions) == 0:
		return nil, clientError(CodeParameterNotFound, "Parameter %s not found.", strings.TrimSpace(lk.raw))
	case lk.versionMissing && strings.Trim(lk.selector[1:], "0123456789") == "":
		return nil, clientError(CodeParameterVersionNotFound,
			"Systems Manager could not find version %s of %s. Verify the version and try again.", lk.selector[1:], lk.name)
	case lk.versionMissing:
		return nil, clientError(CodeParameterNotFound, "Parameter %s not found.", strings.TrimSpace(lk.raw))
	case withDecryption && lk.p.typ == SecureString && lk.p.kmsDenied:
		return nil, kmsAccessDenied()
	}
	return map[string]any{"Parameter": s.out(lk, withDecryption)}, nil
}

// parameterMetadata is a DescribeParameters entry: no value.
type parameterMetadata struct {
	ARN              string   `json:"ARN"`
	Name             string   `json:"Name"`
	Type             string   `json:"Type"`
	KeyID            string   `json:"KeyId,omitempty"`
	LastModifiedDate float64  `json:"LastModifiedDate"`
	LastModifiedUser string   `json:"LastModifiedUser,omitempty"`
	Description      string   `json:"Description,omitempty"`
	Version          int64    `json:"Version"`
	Tier             string   `json:"Tier"`
	Policies         []string `json:"Policies"`
	DataType         string   `json:"DataType"`
}

type paramStringFilter struct {
	Key    *string  `json:"Key"`
	Option *string  `json:"Option"`
	Values []string `json:"Values"`
}

var filterKeyPattern = regexp.MustCompile(`^(tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType)$`)

// describeParameters is DescribeParameters: the caller's parameters in its
// region (or, with Shared, those other accounts share with it) that match
// the filters, as metadata, by name, MaxResults (default 10, at most 50) a
// page. ssm:DescribeParameters takes no resource: DenyOperation is the only
// denial that applies to it.
func (s *Server) describeParameters(who *caller, body []byte, _ *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		oldFilters []struct {
			Key    *string  `json:"Key"`
			Values []string `json:"Values"`
		}
		filters    []paramStringFilter
		maxResults *int
		nextToken  *string
		shared     *bool
	)
	if aerr := in.getAll(map[string]any{"Filters": &oldFilters, "ParameterFilters": &filters, "MaxResults": &maxResults,
		"NextToken": &nextToken, "Shared": &shared}); aerr != nil {
		return nil, aerr
	}
	var v validation
	for i, f := range filters {
		member := fmt.Sprintf("parameterFilters.%d.member", i+1)
		v.required(member+".key", f.Key != nil)
		if f.Key != nil {
			v.length(member+".key", f.Key, 1, 132)
			if !filterKeyPattern.MatchString(*f.Key) {
				v.add("Value '%s' at '%s.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType", *f.Key, member)
			}
		}
		v.length(member+".option", f.Option, 1, 10)
		if f.Values != nil && (len(f.Values) < 1 || len(f.Values) > 50) {
			v.add("Value '[%s]' at '%s.values' failed to satisfy constraint: Member must have length less than or equal to 50", strings.Join(f.Values, ", "), member)
		}
		for j := range f.Values {
			v.length(fmt.Sprintf("%s.values.%d.member", member, j+1), &f.Values[j], 1, 1024)
		}
	}
	for i, f := range oldFilters {
		if f.Values != nil && (len(f.Values) < 1 || len(f.Values) > 50) {
			v.add("Value '[%s]' at 'filters.%d.member.values' failed to satisfy constraint: Member must have length less than or equal to 50", strings.Join(f.Values, ", "), i+1)
		}
		if f.Key != nil && !slices.Contains([]string{"Name", "Type", "KeyId"}, *f.Key) {
			v.add("Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]", *f.Key, i+1)
		}
	}
	if maxResults != nil && (*maxResults < 1 || *maxResults > 50) {
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", *maxResults)
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	if len(oldFilters) > 0 && len(filters) > 0 {
		return nil, clientError(CodeValidation, msgBothFilters)
	}
	for _, f := range oldFilters {
		filters = append(filters, paramStringFilter{Key: f.Key, Option: ptr("Equals"), Values: f.Values})
	}
	seenKey := map[string]bool{}
	for _, f := range filters {
		if aerr := checkParamFilter(f, seenKey); aerr != nil {
			return nil, aerr
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []*parameter
	for k, p := range s.ssm.params {
		foreign := k.account != s.store.account
		if k.region != who.region || len(p.versions) == 0 || foreign != (shared != nil && *shared) {
			continue
		}
		if matchesParamFilters(p, filters) {
			matched = append(matched, p)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].key.name < matched[j].key.name })
	start, end, next, perr := page(len(matched), nextToken, maxResults, 10)
	if perr != nil {
		if perr.code == CodeInvalidNextToken {
			return nil, clientError(CodeSSMInvalidNextToken, msgSSMBadNextToken)
		}
		return nil, perr
	}
	out := struct {
		Parameters []parameterMetadata `json:"Parameters"`
		NextToken  *string             `json:"NextToken,omitempty"`
	}{Parameters: []parameterMetadata{}, NextToken: next}
	for _, p := range matched[start:end] {
		l := p.latest()
		m := parameterMetadata{ARN: p.arn(), Name: p.key.name, Type: string(p.typ), KeyID: p.keyID,
			LastModifiedDate: epochSeconds(l.modified), LastModifiedUser: l.user, Description: p.description,
			Version: l.number, Tier: p.tier, Policies: []string{}, DataType: p.dataType}
		if p.key.account != s.store.account {
			m.Name = m.ARN
		}
		out.Parameters = append(out.Parameters, m)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// checkParamFilter applies DescribeParameters' rules on one filter.
func checkParamFilter(f paramStringFilter, seen map[string]bool) *apiError {
	key := *f.Key
	if key == "Label" {
		return clientError(CodeInvalidFilterKey, "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier].")
	}
	if seen[key] {
		return clientError(CodeInvalidFilterKey, "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
	}
	seen[key] = true
	if len(f.Values) == 0 {
		return clientError(CodeInvalidFilterValue, "The following filter values are missing : null for filter key %s.", key)
	}
	option := "Equals"
	if f.Option != nil {
		option = *f.Option
	}
	valid := []string{"BeginsWith", "Equals"}
	switch key {
	case "Path":
		valid = []string{"Recursive", "OneLevel"}
		if f.Option == nil {
			option = "OneLevel"
		}
	case "Name":
		valid = []string{"BeginsWith", "Equals", "Contains"}
	}
	if !slices.Contains(valid, option) {
		return clientError(CodeInvalidFilterOption, "The following filter option is not valid: %s. Valid options include: [%s].", option, strings.Join(valid, ", "))
	}
	for _, val := range f.Values {
		switch key {
		case "Type":
			if !slices.Contains([]string{"String", "StringList", "SecureString"}, val) {
				return clientError(CodeInvalidFilterValue, "The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", val)
			}
		case "Tier":
			if !slices.Contains([]string{"Standard", "Advanced", "Intelligent-Tiering"}, val) {
				return clientError(CodeInvalidFilterValue, "The following filter value is not valid: %s. Valid values include: [Standard, Advanced, Intelligent-Tiering].", val)
			}
		case "Path":
			lower := strings.ToLower(strings.TrimPrefix(val, "/"))
			if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
				return clientError(CodeValidation, `Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive).`)
			}
			if !strings.HasPrefix(val, "/") {
				return clientError(CodeInvalidFilterValue, "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
			}
		}
	}
	return nil
}

// matchesParamFilters applies the filters (ANDed; the values of one ORed).
// Names compare without their leading '/', as Parameter Store does.
func matchesParamFilters(p *parameter, filters []paramStringFilter) bool {
	for _, f := range filters {
		key := *f.Key
		option := "Equals"
		if key == "Path" {
			option = "OneLevel"
		}
		if f.Option != nil {
			option = *f.Option
		}
		var field string
		switch key {
		case "Name":
			field = strings.TrimPrefix(p.key.name, "/")
		case "Type":
			field = string(p.typ)
		case "KeyId":
			field = p.keyID
		case "Tier":
			field = p.tier
		case "DataType":
			field = p.dataType
		}
		ok := false
		for _, val := range f.Values {
			var hit bool
			switch {
			case key == "Path":
				hit = underPath(p.key.name, val, option == "Recursive")
			case strings.HasPrefix(key, "tag:"):
				// The fake keeps no tags.
			case key == "Name" && option == "Contains":
				hit = strings.Contains(p.key.name, val)
			default:
				if key == "Name" {
					val = strings.TrimPrefix(val, "/")
				}
				if option == "BeginsWith" {
					hit = strings.HasPrefix(field, val)
				} else {
					hit = field == val
				}
			}
			ok = ok || hit
		}
		if !ok {
			return false
		}
	}
	return true
}

// underPath reports whether name lies under path: directly (OneLevel) or at
// any depth (Recursive). The path "/" holds the names without a hierarchy.
func underPath(name, path string, recursive bool) bool {
	if path == "/" {
		return recursive || !strings.HasPrefix(name, "/")
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && rest != "" && (recursive || !strings.Contains(rest, "/"))
}

func (s *Server) putParameter(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		name, value, typ, keyID, desc, tier, dataType *string
		overwrite                                     *bool
		tags                                          []struct{ Key, Value string }
	)
	if aerr := in.getAll(map[string]any{"Name": &name, "Value": &value, "Type": &typ, "KeyId": &keyID, "Description": &desc,
		"Tier": &tier, "DataType": &dataType, "Overwrite": &overwrite, "Tags": &tags}); aerr != nil {
		return nil, aerr
	}
	if name != nil {
		call.Names = []string{*name}
	}
	var v validation
	v.required("name", name != nil)
	v.length("name", name, 1, 2048)
	v.required("value", value != nil) // sensitive: never quoted
	v.length("description", desc, 0, 1024)
	if typ != nil && !slices.Contains([]string{"String", "StringList", "SecureString"}, *typ) {
		v.add("Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", *typ)
	}
	if tier != nil && !slices.Contains([]string{"Standard", "Advanced", "Intelligent-Tiering"}, *tier) {
		v.add("Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", *tier)
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	ow := overwrite != nil && *overwrite
	if ow && len(tags) > 0 {
		return nil, clientError(CodeValidation, "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource API.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := paramKey{s.store.account, who.region, *name}
	existing := s.ssm.params[k]
	if existing != nil && len(existing.versions) == 0 {
		existing = nil
	}
	t := ParamType(deref(typ))
	if t == "" {
		if existing == nil {
			return nil, clientError(CodeValidation, "A parameter type is required when you create a parameter.")
		}
		t = existing.typ
	}
	if existing != nil && !ow {
		return nil, clientError(CodeParameterAlreadyExists, msgParamExists)
	}
	if ti := deref(tier); ti == "Intelligent-Tiering" {
		tier = ptr("Standard")
		if len(*value) > 4096 {
			tier = ptr("Advanced")
		}
	}
	p, aerr := s.putParam(k, t, *value, paramOptions{keyID: deref(keyID), description: deref(desc), tier: deref(tier),
		dataType: deref(dataType), modified: s.now()}, true, who.cred.Principal)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"Version": p.latest().number, "Tier": p.tier}, nil
}

func (s *Server) labelParameterVersion(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		name    *string
		version *int64
		labels  []string
	)
	if aerr := in.getAll(map[string]any{"Name": &name, "ParameterVersion": &version, "Labels": &labels}); aerr != nil {
		return nil, aerr
	}
	if name != nil {
		call.Names = []string{*name}
	}
	var v validation
	v.required("name", name != nil)
	v.length("name", name, 1, 2048)
	v.required("labels", in["Labels"] != nil && labels != nil)
	if labels != nil && (len(labels) < 1 || len(labels) > 10) {
		v.add("Value '[%s]' at 'labels' failed to satisfy constraint: Member must have length less than or equal to 10", strings.Join(labels, ", "))
	}
	for i := range labels {
		v.length(fmt.Sprintf("labels.%d.member", i+1), &labels[i], 1, 100)
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.ssm.params[paramKey{s.store.account, who.region, *name}]
	if p == nil || len(p.versions) == 0 {
		return nil, clientError(CodeParameterNotFound, "Parameter %s not found.", *name)
	}
	pv := p.latest()
	if version != nil {
		if pv = p.version(*version); pv == nil {
			return nil, clientError(CodeParameterVersionNotFound,
				"Systems Manager could not find version %d of %s. Verify the version and try again.", *version, *name)
		}
	}
	invalid := []string{}
	var good []string
	for _, l := range labels {
		if validLabel(l) {
			good = append(good, l)
		} else {
			invalid = append(invalid, l)
		}
	}
	n := len(pv.labels)
	for _, l := range good {
		if !slices.Contains(pv.labels, l) {
			n++
		}
	}
	if n > maxLabels {
		return nil, clientError(CodeParameterVersionLabelLimit, "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.")
	}
	p.moveLabels(pv, good)
	return map[string]any{"InvalidLabels": invalid, "ParameterVersion": pv.number}, nil
}
