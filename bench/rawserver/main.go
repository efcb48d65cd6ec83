package rawserver

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs the reference server from command-line arguments until
// SIGTERM or SIGINT and returns the exit status. The load generator runs
// it as "wsfan-bench -raw-server -listen ADDR -admin-listen ADDR -key KEY".
func Main(args []string, errOut io.Writer) int {
	fs := flag.NewFlagSet("raw-server", flag.ContinueOnError)
	fs.SetOutput(errOut)
	listen := fs.String("listen", "127.0.0.1:8080", "public listener: GET /ws")
	admin := fs.String("admin-listen", "127.0.0.1:9090", "internal listener: POST /publish, GET /metrics, GET /healthz")
	key := fs.String("key", "dev-only-publish-key-change-me", "publish key (Authorization: Bearer)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	s, err := Start(*listen, *admin, *key)
	if err != nil {
		fmt.Fprintf(errOut, "raw-server: %v\n", err)
		return 1
	}
	fmt.Fprintf(errOut, "raw-server: listening on %s, admin %s\n", s.Addr(), s.AdminAddr())
	<-sig
	if err := s.Close(); err != nil {
		fmt.Fprintf(errOut, "raw-server: %v\n", err)
	}
	return 0
}
