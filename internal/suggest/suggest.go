// Package suggest finds what a mistyped word was probably meant to be: a
// command name, a reference scheme. It compares with the optimal string
// alignment distance (Levenshtein, plus the swap of two neighbours, the
// most common typing mistake: "vualt" for "vault").
package suggest

// Distance returns the number of single-character insertions, deletions,
// substitutions and swaps of two neighbours that turn a into b, without
// editing any substring twice. It works on bytes, and so on ASCII words.
func Distance(a, b string) int {
	// Three rows of the dynamic programme: two back for the swap.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Nearest returns the one candidate within maxDist of word, or "" when
// none is, or when two or more are equally near (a guess would mislead).
func Nearest(word string, maxDist int, candidates ...string) string {
	best, bestD, tie := "", maxDist+1, false
	for _, c := range candidates {
		switch d := Distance(word, c); {
		case d < bestD:
			best, bestD, tie = c, d, false
		case d == bestD:
			tie = true
		}
	}
	if best == "" || tie {
		return ""
	}
	return best
}
