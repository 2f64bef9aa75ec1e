package awsfake

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// SSMClient returns a Systems Manager client for region built from Config:
// signed with the default credential, sent to the Server, the SDK's
// default retryer.
func (s *Server) SSMClient(region string, optFns ...func(*ssm.Options)) *ssm.Client {
	return ssm.NewFromConfig(s.Config(region), optFns...)
}

// SetenvSSM points config.LoadDefaultConfig's Systems Manager clients at
// the Server: Setenv (which isolates the environment), then
// AWS_ENDPOINT_URL_SSM.
func (s *Server) SetenvSSM(t testing.TB, region string) {
	t.Helper()
	s.Setenv(t, region)
	t.Setenv("AWS_ENDPOINT_URL_SSM", s.URL)
}
