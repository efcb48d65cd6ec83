package configtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// Section is a configuration section, as config.Parse handles each one:
// defaults first, then validation.
type Section interface {
	ApplyDefaults()
	Validate() error
}

// Decode decodes the TOML table named table from text into a T, applies
// its defaults and validates it, failing t if the text does not decode,
// holds a key that T lacks, has no such table, or does not validate.
func Decode[T any, P interface {
	*T
	Section
}](t testing.TB, text, table string) T {
	t.Helper()
	c, err := decode[T, P](text, table)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// decode is Decode, returning what Decode fails t with.
func decode[T any, P interface {
	*T
	Section
}](text, table string) (c T, err error) {
	var doc map[string]T
	md, err := toml.Decode(text, &doc)
	if err != nil {
		return c, fmt.Errorf("Decode: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return c, fmt.Errorf("undecoded keys: %v", und)
	}
	c, ok := doc[table]
	if !ok {
		return c, fmt.Errorf("no [%s] table in %q", table, text)
	}
	P(&c).ApplyDefaults()
	if err := P(&c).Validate(); err != nil {
		return c, fmt.Errorf("Validate: %w", err)
	}
	return c, nil
}

// WantError fails t unless err is what call (named in the message) should
// have returned: nil when key is "", else an error naming key.
func WantError(t testing.TB, call string, err error, key string) {
	t.Helper()
	if msg := mismatch(call, err, key); msg != "" {
		t.Fatal(msg)
	}
}

// mismatch is what WantError fails t with, "" when err is right.
func mismatch(call string, err error, key string) string {
	switch {
	case key == "" && err != nil:
		return fmt.Sprintf("%s: unexpected error %v", call, err)
	case key != "" && (err == nil || !strings.Contains(err.Error(), key)):
		return fmt.Sprintf("%s = %v; want an error naming %q", call, err, key)
	}
	return ""
}
