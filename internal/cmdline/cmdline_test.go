package cmdline

import (
	"errors"
	"strings"
	"testing"
)

type opts struct {
	timeout string
	json    bool
	got     []int
}

func flags(o *opts) []*Flag {
	return []*Flag{
		{Name: "timeout", Arg: "DURATION", Set: func(v string, pos int) error {
			if v == "bad" {
				return errors.New("not a duration")
			}
			o.timeout, o.got = v, append(o.got, pos)
			return nil
		}},
		{Name: "json", Set: func(v string, pos int) error { o.json = v == "true"; o.got = append(o.got, pos); return nil }},
	}
}

func TestParse(t *testing.T) {
	var o opts
	res, err := Parse([]string{"--timeout", "5s", "-json", "cmd", "--timeout", "x"}, flags(&o), Options{Offset: 1})
	if err != nil || o.timeout != "5s" || !o.json || strings.Join(res.Args, " ") != "cmd --timeout x" || res.Pos[0] != 5 || o.got[0] != 3 || o.got[1] != 4 {
		t.Errorf("%v %+v %+v", err, res, o)
	}
	o = opts{}
	res, err = Parse([]string{"a", "--json=false", "--timeout=1s", "b", "--", "--json"}, flags(&o), Options{Interleaved: true})
	if err != nil || o.json || o.timeout != "1s" || strings.Join(res.Args, " ") != "a b --json" || !res.Dashed {
		t.Errorf("interleaved: %v %+v %+v", err, res, o)
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		if _, err := Parse([]string{"x", h}, flags(&o), Options{Interleaved: true}); !errors.Is(err, ErrHelp) {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func TestErrorsNamePositions(t *testing.T) {
	key := "CANARYk3yPasted0123456789ABCdef="
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--timeout"}, "argument 1 (--timeout): needs a value"},
		{[]string{"--json", "--timeout", "bad"}, "argument 3 (--timeout): not a duration"},
		{[]string{"--json=" + key}, "argument 1 (--json): takes no value"},
		{[]string{"--nope"}, "argument 1: unknown flag --nope"},
		{[]string{"--timeot", "1s"}, "argument 1: unknown flag --timeot"},
		{[]string{"-" + key}, "argument 1: not a flag this command takes"},
		{[]string{"--" + strings.ToLower(key[:30])}, "argument 1: not a flag"},
	}
	for _, tt := range tests {
		var o opts
		_, err := Parse(tt.args, flags(&o), Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%d args: %v, want %q", len(tt.args), err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), key) || strings.Contains(err.Error(), strings.ToLower(key[:30]))) {
			t.Errorf("the error repeats an argument: %v", err)
		}
	}
	var o opts
	_, err := Parse([]string{"--timeot", "1s"}, flags(&o), Options{})
	if ce := (*Error)(nil); !errors.As(err, &ce) || ce.Hint != "did you mean --timeout?" {
		t.Errorf("hint: %v", err)
	}
}

// FuzzParse: never panics; an error names a position and never holds an
// argument that is not a flag's plain name.
func FuzzParse(f *testing.F) {
	f.Add("--timeout\x00CANARYabc")
	f.Add("--json=CANARYxyz")
	f.Add("-CANARY\x00x")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		var o opts
		_, err := Parse(args, flags(&o), Options{Interleaved: true})
		if err == nil || errors.Is(err, ErrHelp) {
			return
		}
		if !strings.HasPrefix(err.Error(), "argument ") {
			t.Fatalf("no position: %v", err)
		}
		if strings.Contains(joined, "CANARY") && strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("the error repeats an argument: %v", err)
		}
	})
}
