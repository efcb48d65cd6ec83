//go:build !linux

package strategies

import "time"

func selfCPU() time.Duration { return 0 }

func machineBusy() (time.Duration, bool) { return 0, false }
