package awsfake

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// secretListEntry is a ListSecrets SecretList entry: metadata, no value.
type secretListEntry struct {
	ARN                    string              `json:"ARN"`
	Name                   string              `json:"Name"`
	Description            string              `json:"Description,omitempty"`
	CreatedDate            float64             `json:"CreatedDate"`
	LastChangedDate        float64             `json:"LastChangedDate"`
	DeletedDate            *float64            `json:"DeletedDate,omitempty"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
	Tags                   []tag               `json:"Tags,omitempty"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// filterValue is the pattern of a Filter's Values members.
var filterValue = regexp.MustCompile(`^!?[a-zA-Z0-9 :_@/+=.\-!]*$`)

var (
	sortOrders = []string{"asc", "desc"}
	sortKeys   = []string{"created-date", "last-accessed-date", "last-changed-date", "name"}
)

// listSecrets is ListSecrets: the secrets of the caller's region that match
// Filters, as metadata. secretsmanager:ListSecrets applies to the whole
// account (it takes no resource), so DenyOperation(OpListSecrets) is the
// only denial that applies to it.
func (s *Server) listSecrets(who *caller, body []byte, _ *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var (
		filters           []filter
		maxResults        *int
		nextToken         *string
		sortOrder, sortBy *string
		planned           *bool
	)
	if aerr := in.getAll(map[string]any{"Filters": &filters, "MaxResults": &maxResults, "NextToken": &nextToken,
		"SortOrder": &sortOrder, "SortBy": &sortBy, "IncludePlannedDeletion": &planned}); aerr != nil {
		return nil, aerr
	}
	var v validation
	if len(filters) > 10 {
		v.add("Value '%v' at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10", filters)
	}
	for i, f := range filters {
		if f.Key != nil && !slices.Contains(filterKeys, *f.Key) {
			v.add("Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				*f.Key, i+1, strings.Join(filterKeys, ", "))
		}
		if f.Values != nil && (len(f.Values) < 1 || len(f.Values) > 10) {
			v.add("Value '[%s]' at 'filters.%d.member.values' failed to satisfy constraint: Member must have length between 1 and 10",
				strings.Join(f.Values, ", "), i+1)
		}
		for j, val := range f.Values {
			member := fmt.Sprintf("filters.%d.member.values.%d.member", i+1, j+1)
			v.length(member, &f.Values[j], 0, 512)
			if !filterValue.MatchString(val) {
				v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$", val, member)
			}
		}
	}
	if maxResults != nil && (*maxResults < 1 || *maxResults > 100) {
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *maxResults)
	}
	if sortOrder != nil && !slices.Contains(sortOrders, *sortOrder) {
		v.add("Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]", *sortOrder)
	}
	if sortBy != nil && !slices.Contains(sortKeys, *sortBy) {
		v.add("Value '%s' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *sortBy, strings.Join(sortKeys, ", "))
	}
	v.length("nextToken", nextToken, 1, 4096)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []*secret
	for _, sec := range s.store.regions[who.region] {
		if (!sec.deleted || (planned != nil && *planned)) && matchesAll(sec, filters) {
			matched = append(matched, sec)
		}
	}
	by := "created-date"
	if sortBy != nil {
		by = *sortBy
	}
	sort.Slice(matched, func(i, j int) bool {
		a, b := matched[i], matched[j]
		switch by {
		case "name":
			return a.name < b.name
		case "last-changed-date":
			if !a.changed.Equal(b.changed) {
				return a.changed.Before(b.changed)
			}
		default:
			if !a.created.Equal(b.created) {
				return a.created.Before(b.created)
			}
		}
		return a.name < b.name
	})
	if sortOrder != nil && *sortOrder == "desc" {
		slices.Reverse(matched)
	}
	start, end, next, err := page(len(matched), nextToken, maxResults, 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		SecretList []secretListEntry `json:"SecretList"`
		NextToken  *string           `json:"NextToken,omitempty"`
	}{SecretList: []secretListEntry{}}
	for _, sec := range matched[start:end] {
		out.SecretList = append(out.SecretList, listEntry(sec))
	}
	out.NextToken = next
	return out, nil
}

func listEntry(sec *secret) secretListEntry {
	e := secretListEntry{
		ARN:             sec.arn,
		Name:            sec.name,
		Description:     sec.description,
		CreatedDate:     epochSeconds(sec.created),
		LastChangedDate: epochSeconds(sec.changed),
	}
	if sec.deleted {
		d := epochSeconds(sec.deletedAt)
		e.DeletedDate = &d
	}
	for _, id := range sec.order {
		if v := sec.versions[id]; len(v.stages) > 0 {
			if e.SecretVersionsToStages == nil {
				e.SecretVersionsToStages = map[string][]string{}
			}
			e.SecretVersionsToStages[id] = slices.Clone(v.stages)
		}
	}
	keys := make([]string, 0, len(sec.tags))
	for k := range sec.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.Tags = append(e.Tags, tag{Key: k, Value: sec.tags[k]})
	}
	return e
}

// describeOutput is a DescribeSecret answer: the secret's metadata, never
// its value. Its versions are VersionIdsToStages (ListSecrets calls the
// same map SecretVersionsToStages).
type describeOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	CreatedDate        float64             `json:"CreatedDate"`
	LastChangedDate    float64             `json:"LastChangedDate"`
	DeletedDate        *float64            `json:"DeletedDate,omitempty"`
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
	Tags               []tag               `json:"Tags,omitempty"`
}

// describeSecret is DescribeSecret: a secret's metadata, by name or ARN
// (another account's secret shared by a resource policy included), and for
// a secret marked for deletion too, with its DeletedDate (reads of its
// value fail meanwhile).
func (s *Server) describeSecret(who *caller, body []byte, call *Call) (any, *apiError) {
	in, aerr := parseInput(body)
	if aerr != nil {
		return nil, aerr
	}
	var id *string
	if aerr := in.get("SecretId", &id); aerr != nil {
		return nil, aerr
	}
	if id != nil {
		call.SecretIDs = []string{*id}
	}
	var v validation
	v.required("secretId", id != nil)
	v.length("secretId", id, 1, 2048)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.store.resolve(who.region, *id)
	if s.deniedID[who.region+"\x00"+*id] || (sec != nil && sec.denied) {
		return nil, accessDenied(who, OpDescribeSecret, *id)
	}
	if sec == nil {
		return nil, clientError(CodeResourceNotFound, msgSecretNotFound)
	}
	e := listEntry(sec)
	return describeOutput{ARN: e.ARN, Name: e.Name, Description: e.Description, CreatedDate: e.CreatedDate,
		LastChangedDate: e.LastChangedDate, DeletedDate: e.DeletedDate, VersionIdsToStages: e.SecretVersionsToStages, Tags: e.Tags}, nil
}
