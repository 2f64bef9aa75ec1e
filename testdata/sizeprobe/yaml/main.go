// Command yaml is a size probe (README, Performance: where the bytes go):
// the base and go.yaml.in/yaml/v3. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	var m map[string]any
	fmt.Println(yaml.Unmarshal([]byte(os.Args[2]), &m))
}
