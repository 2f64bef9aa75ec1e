package pgtest

import (
	"strings"
	"testing"
)

func TestStartCreateRestore(t *testing.T) {
	s := Start(t)
	s.CreateDatabase("app", "n8n", "pw'with\"quotes")
	s.Exec("app", "CREATE TABLE t (id int primary key, v text)")
	s.Exec("app", "INSERT INTO t VALUES (1, 'one'), (2, 'two')")
	if got := strings.TrimSpace(s.Exec("app", "SELECT count(*) FROM t")); got != "2" {
		t.Fatalf("count = %q, want 2", got)
	}
	owner := strings.TrimSpace(s.Exec("postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'"))
	if owner != "n8n" {
		t.Fatalf("owner = %q, want n8n", owner)
	}
	if _, err := s.Psql("app", "-c", "SELECT * FROM missing_table"); err == nil {
		t.Fatal("psql on a missing table: no error")
	}
	s.Stop()
	if _, err := s.Psql("app", "-c", "SELECT 1"); err == nil {
		t.Fatal("psql after Stop: no error")
	}
}

func TestRequirePasswords(t *testing.T) {
	s := Start(t)
	s.Exec("postgres", `CREATE ROLE app LOGIN PASSWORD 'right'`)
	s.Exec("postgres", `CREATE ROLE old LOGIN PASSWORD 'right' VALID UNTIL '2000-01-01'`)
	if err := s.Login("postgres", "app", "wrong"); err != nil {
		t.Fatalf("trust before RequirePasswords: %v", err)
	}
	s.RequirePasswords()
	if err := s.Login("postgres", "app", "right"); err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if err := s.Login("postgres", "app", "wrong"); err == nil {
		t.Error("wrong password accepted")
	}
	if err := s.Login("postgres", "old", "right"); err == nil {
		t.Error("a role past its VALID UNTIL logged in")
	}
	s.Exec("postgres", "SELECT 1") // the superuser still trusted
}
