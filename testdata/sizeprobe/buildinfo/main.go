// Command buildinfo is a size probe (README, Performance: where the bytes go):
// the base and debug/buildinfo. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	fmt.Println(buildinfo.ReadFile(os.Args[2]))
}
