//go:build !race

package server

import "github.com/lesismal/nbio/nbhttp"

// addRaceEdges is a no-op without -race; see race_on.go.
func addRaceEdges(*nbhttp.Engine) {}
