package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"vault", "vault", 0},
		{"vualt", "vault", 1}, // swap
		{"vaul", "vault", 1},
		{"vaultt", "vault", 1},
		{"fault", "vault", 1},
		{"awsm", "awssm", 1},
		{"chek", "check", 1},
		{"ckech", "check", 2},
		{"", "file", 4},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	cmds := []string{"check", "keygen", "version", "help", "fingerprint"}
	for word, want := range map[string]string{
		"chek": "check", "cehck": "check", "kegen": "keygen", "verison": "version",
		"hlep": "help", "xyz": "", "check": "check", "": "",
	} {
		if got := Nearest(word, 2, cmds...); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", word, got, want)
		}
	}
	if got := Nearest("ab", 1, "aa", "bb"); got != "" {
		t.Errorf("a tie must give no guess, got %q", got)
	}
}

func FuzzDistance(f *testing.F) {
	f.Add("vault", "vualt")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := Distance(a, b)
		if d != Distance(b, a) || d < 0 || d > max(len(a), len(b)) || (d == 0) != (a == b) {
			t.Fatalf("Distance(%q, %q) = %d", a, b, d)
		}
	})
}
