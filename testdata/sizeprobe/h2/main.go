// Command h2 is a size probe (README, Performance: where the bytes go):
// the base with golang.org/x/net/http2 configured on its transport. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"golang.org/x/net/http2"
)

func main() {
	t := &http.Transport{}
	_, _ = http2.ConfigureTransports(t)
	resp, err := (&http.Client{Transport: t}).Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
}
