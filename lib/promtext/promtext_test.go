package promtext

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse("# HELP x\n# TYPE x counter\nx_total 3\n\ny{reason=\"a b\"} -1.5e3\nz NaN\nw +Inf\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got["x_total"] != 3 || got[`y{reason="a b"}`] != -1500 || !math.IsNaN(got["z"]) || !math.IsInf(got["w"], 1) {
		t.Fatalf("Parse = %v", got)
	}
	for _, bad := range []string{"x_total\n", "x_total 3 4\n", "9x 1\n", "x{a=\"b\" 1\n", "x 1..2\n"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(strings.TrimSuffix(bad, "\n"))) {
			t.Errorf("Parse(%q): %v; want an error naming the line", bad, err)
		}
	}
}
