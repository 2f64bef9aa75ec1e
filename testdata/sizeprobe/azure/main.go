// Command azure is a size probe (README, Performance: where the bytes go):
// the base and a secret read with azidentity's default chain and azsecrets. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	cr, _ := azidentity.NewDefaultAzureCredential(nil)
	c, _ := azsecrets.NewClient(os.Args[2], cr, nil)
	s, err := c.GetSecret(context.Background(), os.Args[3], "", nil)
	fmt.Println(s, err)
}
