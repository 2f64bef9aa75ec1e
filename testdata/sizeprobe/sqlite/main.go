// Command sqlite is a size probe (README, Performance: where the bytes go):
// the base and a query through modernc.org/sqlite. Built with
// make build's flags, its size less the base's is what that part adds.
package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	_ "modernc.org/sqlite"
)

func main() {
	resp, err := http.Get(os.Args[1])
	if err == nil {
		var v any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		fmt.Println(v)
	}
	db, _ := sql.Open("sqlite", os.Args[2])
	r, _ := db.Query("select 1")
	fmt.Println(r)
}
