package promtext

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sampleLine is one sample line: a name, its labels if any, a value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$`)

// Parse returns the samples of text by name with labels, as written
// (`wsfan_connections_rejected_total{reason="origin"}`). Blank lines and
// comments (# HELP, # TYPE) are skipped; any other line that is not a
// sample is an error naming it.
func Parse(text string) (map[string]float64, error) {
	out := map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || line[0] == '#' {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("not a sample line: %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("bad value in %q: %w", line, err)
		}
		out[m[1]+m[2]] = v
	}
	return out, nil
}
