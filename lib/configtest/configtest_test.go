package configtest

import (
	"errors"
	"strings"
	"testing"
)

// section is a configuration section with one default and one check.
type section struct {
	Size int    `toml:"size"`
	Name string `toml:"name"`
}

func (s *section) ApplyDefaults() {
	if s.Size == 0 {
		s.Size = 8
	}
}

func (s *section) Validate() error {
	if s.Size < 0 {
		return errors.New("sec.size: must not be negative")
	}
	return nil
}

func TestDecode(t *testing.T) {
	if got := Decode[section](t, "[sec]\nname = \"x\"\n", "sec"); got != (section{Size: 8, Name: "x"}) {
		t.Fatalf("Decode = %+v; want the name and the default size", got)
	}
	for text, want := range map[string]string{
		"[sec]\nname = ":          "Decode: ",
		"[sec]\nnope = 1\n":       "undecoded keys: [sec.nope]",
		"[other]\nsize = 1\n":     "no [sec] table",
		"[sec]\nsize = -1\n":      "Validate: sec.size",
		"[sec]\nsize = \"big\"\n": "Decode: ",
	} {
		if _, err := decode[section](text, "sec"); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("decode(%q) = %v; want an error starting %q", text, err, want)
		}
	}
}

func TestMismatch(t *testing.T) {
	naming := errors.New("limits.burst: too large")
	for _, c := range []struct {
		err   error
		key   string
		fails bool
	}{
		{nil, "", false},
		{naming, "", true},
		{nil, "limits.burst", true},
		{naming, "limits.burst", false},
		{naming, "limits.rate", true},
	} {
		if msg := mismatch("Validate", c.err, c.key); (msg != "") != c.fails {
			t.Errorf("mismatch(%v, %q) = %q; want a failure: %v", c.err, c.key, msg, c.fails)
		}
	}
}
