package main

// clip cuts a failure, close or publish-error reason to at most n bytes:
// reasons are counted by their text, and some error texts are long.
func clip(reason string, n int) string {
	if len(reason) > n {
		return reason[:n]
	}
	return reason
}

func cloneCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
