// Command precis is a size probe (README, Performance: where the bytes go):
// the base and golang.org/x/text/secure/precis (SCRAM's SASLprep). Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"golang.org/x/text/secure/precis"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	fmt.Println(precis.OpaqueString.String(os.Args[2]))
}
