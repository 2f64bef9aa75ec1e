// Command hcl is a size probe (README, Performance: where the bytes go):
// the base and HCL 1. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/hashicorp/hcl"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	var m map[string]any
	fmt.Println(hcl.Decode(&m, os.Args[2]))
}
