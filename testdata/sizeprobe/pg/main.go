// Command pg is a size probe (README, Performance: where the bytes go):
// the base and a query through pgx's pgconn. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgconn"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	c, err := pgconn.Connect(context.Background(), os.Args[2])
	if err == nil {
		r := c.Exec(context.Background(), "select 1")
		fmt.Println(r.ReadAll())
	}
}
