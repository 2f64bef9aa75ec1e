// Command vault is a size probe (README, Performance: where the bytes go):
// the base and a read through vault/api. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/hashicorp/vault/api"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	c, _ := api.NewClient(&api.Config{Address: os.Args[2], HttpClient: http.DefaultClient})
	s, err := c.Logical().Read(os.Args[3])
	fmt.Println(s, err)
}
