package awssm_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/n8n-secrets/n8n-secrets/providers/awssm"
)

// TestUndecodableAnswer: an answer that does not decode (cut short, here
// inside the secret's value) is an error in our own words: the decoder's
// text quotes the answer where it failed, and the answer holds values.
// Every byte of the value is checked, not the whole canary only.
func TestUndecodableAnswer(t *testing.T) {
	setup(t)
	value := "xq7Zk9Wv2Lp4"
	for _, body := range []string{
		`{"ARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:n8n/k-AbCdEf","Name":"n8n/k","SecretString":"` + value,
		`{"SecretValues":[{"ARN":"arn:aws:secretsmanager:us-east-1:111122223333:secret:n8n/k-AbCdEf","Name":"n8n/k","SecretString":"` + value + `"` + value + `}]}`,
		`{"SecretValues":[{"Name":"n8n/k","SecretString":` + value + `}]}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Write([]byte(body))
		}))
		p := newProvider(t, awssm.Options{Getenv: func(k string) string {
			if k == "AWS_ENDPOINT_URL_SECRETS_MANAGER" {
				return srv.URL
			}
			return os.Getenv(k)
		}})
		_, errs := resolve(t, p, "awssm://n8n/k")
		srv.Close()
		if len(errs) != 1 {
			t.Fatalf("%d errors, want 1", len(errs))
		}
		msg := errs[0].Error()
		for _, c := range value {
			if strings.ContainsRune(msg, c) && !strings.ContainsRune("awssm: get n8n/k Secrets Manager's answer could not be decoded (us-east-1)", c) {
				t.Fatalf("the error quotes the answer (a character of the value that its own words lack)")
			}
		}
		if !strings.Contains(msg, "answer could not be decoded") {
			t.Errorf("want the error in our own words (answer could not be decoded); the decoder's text was passed on")
		}
	}
}
