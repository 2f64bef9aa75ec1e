// Command aws is a size probe (README, Performance: where the bytes go):
// the base and Secrets Manager and Systems Manager reads through the AWS SDK's config. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	cfg, _ := config.LoadDefaultConfig(context.Background())
	o, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: &os.Args[2]})
	fmt.Println(o, err)
	p, err := ssm.NewFromConfig(cfg).GetParameters(context.Background(), &ssm.GetParametersInput{Names: os.Args[2:]})
	fmt.Println(p, err)
}
