package awsfake_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/awsfake"
)

func TestListSecretsByNameWithVersionsAndPages(t *testing.T) {
	s := awsfake.New(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var refs []awsfake.SecretRef
	for i := range 5 {
		refs = append(refs, s.AddSecret(usEast, fmt.Sprintf("n8n/%d", i), fmt.Sprint("value", i),
			awsfake.WithCreatedDate(base.Add(time.Duration(i)*time.Hour)), awsfake.WithTag("app", "n8n")))
	}
	s.AddSecret(usEast, "other/x", "x")
	s.AddSecret(euWest, "n8n/eu", "eu")
	next := s.PutVersion(usEast, "n8n/1", awsfake.StringValue("value1b"))
	c := s.Client(usEast)

	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"n8n/1", "n8n/3", "n8n/4"}}},
		MaxResults: aws.Int32(2),
	})
	var names []string
	pages := 0
	byName := map[string]types.SecretListEntry{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range out.SecretList {
			names = append(names, aws.ToString(e.Name))
			byName[aws.ToString(e.Name)] = e
		}
	}
	if pages != 2 || !slices.Equal(names, []string{"n8n/1", "n8n/3", "n8n/4"}) {
		t.Fatalf("pages %d names %v: want 2 pages, oldest first", pages, names)
	}
	e := byName["n8n/1"]
	if aws.ToString(e.ARN) != refs[1].ARN || !e.CreatedDate.Equal(base.Add(time.Hour)) || e.LastChangedDate == nil {
		t.Errorf("entry %+v", e)
	}
	want := map[string][]string{refs[1].VersionID: {"AWSPREVIOUS"}, next: {"AWSCURRENT"}}
	if len(e.SecretVersionsToStages) != 2 || !slices.Equal(e.SecretVersionsToStages[next], want[next]) ||
		!slices.Equal(e.SecretVersionsToStages[refs[1].VersionID], want[refs[1].VersionID]) {
		t.Errorf("SecretVersionsToStages %v, want %v", e.SecretVersionsToStages, want)
	}
	if len(e.Tags) != 1 || aws.ToString(e.Tags[0].Key) != "app" {
		t.Errorf("tags %v", e.Tags)
	}

	// Name filters match prefixes; no filter lists the region; descending order.
	out, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{SortOrder: types.SortOrderTypeDesc})
	if err != nil || len(out.SecretList) != 6 || aws.ToString(out.SecretList[0].Name) != "other/x" {
		t.Errorf("unfiltered, descending: %v %d entries", err, len(out.SecretList))
	}
	s.DeleteSecret(usEast, "n8n/0")
	out, err = c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []types.Filter{{Key: "name", Values: []string{"n8n/"}}}})
	if err != nil || len(out.SecretList) != 4 {
		t.Errorf("a secret marked for deletion is listed: %v %d", err, len(out.SecretList))
	}
	out, err = c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true),
		Filters: []types.Filter{{Key: "name", Values: []string{"n8n/0"}}}})
	if err != nil || len(out.SecretList) != 1 || out.SecretList[0].DeletedDate == nil {
		t.Errorf("IncludePlannedDeletion: %v %+v", err, out)
	}
	if n := s.Calls(awsfake.OpListSecrets); n != 5 {
		t.Errorf("%d ListSecrets calls counted, want 5", n)
	}
}

func TestListSecretsValidationAndDenial(t *testing.T) {
	s := awsfake.New(t)
	c := s.Client(usEast)
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprint("n", i)
	}
	for name, in := range map[string]*secretsmanager.ListSecretsInput{
		"eleven values":   {Filters: []types.Filter{{Key: "name", Values: eleven}}},
		"bad character":   {Filters: []types.Filter{{Key: "name", Values: []string{"a*b"}}}},
		"unknown key":     {Filters: []types.Filter{{Key: "path", Values: []string{"a"}}}},
		"max results 101": {MaxResults: aws.Int32(101)},
		"max results 0":   {MaxResults: aws.Int32(0)},
		"bad sort order":  {SortOrder: "up"},
		"value too long":  {Filters: []types.Filter{{Key: "name", Values: []string{strings.Repeat("a", 513)}}}},
	} {
		_, err := c.ListSecrets(ctx, in)
		if code, status := errorCode(t, err); code != awsfake.CodeValidation || status != 400 {
			t.Errorf("%s: %s %d, want ValidationException 400", name, code, status)
		}
	}
	_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: aws.String("bogus")})
	if code, _ := errorCode(t, err); code != awsfake.CodeInvalidNextToken {
		t.Errorf("bad token: %s", code)
	}
	s.DenyOperation(awsfake.OpListSecrets)
	_, err = c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if code, status := errorCode(t, err); code != awsfake.CodeAccessDenied || status != 400 {
		t.Errorf("denied: %s %d", code, status)
	}
}
