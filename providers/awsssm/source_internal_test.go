package awsssm

import "testing"

// TestSourceVersion: the VersionId of a reference's SourceResult, whether
// its members are written as AWS's documentation shows them (VersionId) or
// in lower camel case (versionId), as answers have also been reported.
func TestSourceVersion(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{"CreatedDate":1526334434.743,"Name":"s1","VersionId":"v-1","SecretString":"x","VersionStages":["AWSCURRENT"],"ARN":"arn"}`, "v-1"},
		{`{"ARN":"arn","name":"s1","versionId":"v-2","secretString":"x","versionStages":["AWSCURRENT"],"createdDate":"2026-09-28T10:00:00Z"}`, "v-2"},
		{`not json`, ""},
		{`{}`, ""},
	} {
		src := tc.src
		if got := sourceVersion(&src); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.src, got, tc.want)
		}
	}
	if sourceVersion(nil) != "" {
		t.Error("nil SourceResult")
	}
}
