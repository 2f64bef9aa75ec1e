// Command google is a size probe (README, Performance: where the bytes go):
// the base and Application Default Credentials (golang.org/x/oauth2/google) and the metadata client. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2/google"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	cr, err := google.FindDefaultCredentials(context.Background(), "https://www.googleapis.com/auth/cloud-platform")
	if err == nil {
		t, _ := cr.TokenSource.Token()
		fmt.Println(t)
	}
	p, _ := metadata.ProjectIDWithContext(context.Background())
	fmt.Println(p)
}
