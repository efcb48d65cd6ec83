package proctest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wsfan/lib/nettest"
	"wsfan/lib/promtext"
)

// Build builds the wsfan binary (the module's main package) into a
// temporary directory and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsfan")
	if out, err := exec.Command("go", "build", "-o", bin, "wsfan").CombinedOutput(); err != nil {
		t.Fatalf("go build wsfan: %v\n%s", err, out)
	}
	return bin
}

// WriteConfig writes text as a config file in a temporary directory and
// returns its path.
func WriteConfig(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Proc is a wsfan process that a test started.
type Proc struct {
	Public, Admin string // its listen and admin_listen addresses
	Config        string // its config file
	Cmd           *exec.Cmd
	// Exited receives Cmd.Wait's result once the process has exited.
	Exited <-chan error
	log    syncBuffer
}

// Start runs bin with a config file that puts listen and admin_listen on
// free loopback addresses followed by the lines of extra, and returns once
// the admin listener's /healthz answers 200. What the process writes goes
// to out (nil: nowhere) and is kept for Log. t's cleanup kills it.
func Start(t testing.TB, bin, extra string, out io.Writer) *Proc {
	t.Helper()
	p := &Proc{Public: nettest.FreeAddr(t), Admin: nettest.FreeAddr(t)}
	p.Config = WriteConfig(t, p.configText(extra))
	p.Cmd = exec.Command(bin, "-config", p.Config)
	w := io.Writer(&p.log)
	if out != nil {
		w = io.MultiWriter(&p.log, out)
	}
	p.Cmd.Stdout, p.Cmd.Stderr = w, w
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Exited is closed after its one value, so that Stop, a test and the
	// cleanup may each wait for it.
	exited := make(chan error, 1)
	p.Exited = exited
	go func() { exited <- p.Cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = p.Cmd.Process.Kill() })
	if err := nettest.WaitOK("http://"+p.Admin+"/healthz", 10*time.Second); err != nil {
		t.Fatalf("wsfan did not become healthy: %v\n%s", err, p.Log())
	}
	return p
}

// Rewrite rewrites p's config file with the same addresses and the lines of
// extra, for a reload (SIGHUP).
func (p *Proc) Rewrite(t testing.TB, extra string) {
	t.Helper()
	if err := os.WriteFile(p.Config, []byte(p.configText(extra)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *Proc) configText(extra string) string {
	return fmt.Sprintf("listen = %q\nadmin_listen = %q\n%s", p.Public, p.Admin, extra)
}

// Stop kills the process and waits for it to exit.
func (p *Proc) Stop() {
	_ = p.Cmd.Process.Kill()
	<-p.Exited
}

// Log returns what the process has written to stdout and stderr so far.
func (p *Proc) Log() string { return p.log.String() }

// Publish POSTs body to /publish with key and returns the HTTP status.
func (p *Proc) Publish(t testing.TB, key, body string) int {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+p.Admin+"/publish", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Metrics scrapes /metrics: each sample by name with labels.
func (p *Proc) Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m, err := promtext.Parse(string(b))
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return m
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
