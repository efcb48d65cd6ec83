package sysd

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsfan/config"
)

// Paths of the deployment files, relative to this package's directory
// (where go test runs).
const (
	unitPath   = "../deploy/wsfan.service"
	sysctlPath = "../deploy/sysctl.conf"
	// unitExecStart is the binary the unit starts; make install rewrites
	// the /usr/local prefix when PREFIX differs.
	unitExecStart = "/usr/local/bin/wsfan"
)

// unitKeys returns the unit file's assignments, key -> values in order.
func unitKeys(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not key=value", unitPath, line)
		}
		keys[k] = append(keys[k], v)
	}
	return keys
}

// TestUnitSettings checks what the rest of the project relies on, without
// systemd: the notify type, the fd limit, and a stop timeout above
// shutdown_timeout so that systemd never kills a drain in progress.
func TestUnitSettings(t *testing.T) {
	keys := unitKeys(t)
	f := func(key, want string) {
		t.Helper()
		if got := keys[key]; len(got) != 1 || got[0] != want {
			t.Fatalf("%s: %s=%q; want %q", unitPath, key, got, want)
		}
	}
	f("Type", "notify")
	f("NotifyAccess", "main")
	f("ExecStart", unitExecStart+" -config /etc/wsfan/config.toml")
	f("ExecReload", "/bin/kill -HUP $MAINPID")
	f("LimitNOFILE", "1048576")
	f("Restart", "on-failure")
	f("CapabilityBoundingSet", "")
	f("AmbientCapabilities", "")

	stop, err := time.ParseDuration(strings.Join(keys["TimeoutStopSec"], ""))
	if err != nil {
		t.Fatalf("%s: TimeoutStopSec: %v", unitPath, err)
	}
	if want := config.DefaultShutdownTimeout + 5*time.Second; stop < want {
		t.Fatalf("%s: TimeoutStopSec=%v; want at least %v (shutdown_timeout %v plus margin)",
			unitPath, stop, want, config.DefaultShutdownTimeout)
	}
}

// TestUnitVerify runs `systemd-analyze verify` on deploy/wsfan.service.
//
// verify fails when ExecStart's binary does not exist, and wsfan is not
// installed where the tests run, so the test verifies a copy of the unit in
// a temporary directory with the ExecStart binary replaced by true(1); the
// rest of the file, arguments included, is verified as written. verify
// exits 0 on warnings such as an unknown key, so any output line that names
// the unit fails the test too.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install -y systemd); skipping the verify of " + unitPath)
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for the wsfan binary")
	}
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	old := "\nExecStart=" + unitExecStart + " "
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s: no %q line to rewrite", unitPath, strings.TrimSpace(old))
	}
	b = bytes.Replace(b, []byte(old), []byte("\nExecStart="+trueBin+" "), 1)
	if _, err := os.Stat("/bin/kill"); err != nil {
		// /bin/kill comes with procps, on every real server but not in
		// every minimal container.
		t.Logf("/bin/kill is missing here (%v); ExecReload verified with %s instead", err, trueBin)
		b = bytes.Replace(b, []byte("ExecReload=/bin/kill "), []byte("ExecReload="+trueBin+" "), 1)
	}
	path := filepath.Join(t.TempDir(), "wsfan.service")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "wsfan.service") {
			t.Fatalf("systemd-analyze verify %s warns:\n%s", unitPath, out)
		}
	}
	if len(out) > 0 {
		t.Logf("systemd-analyze verify printed (about other units):\n%s", out)
	}
}

// TestSysctlConf checks that every key in deploy/sysctl.conf exists in this
// kernel (a typo is otherwise only an error line at boot) and holds integers.
// It reads /proc/sys and changes nothing. Keys prefixed with '-' are optional
// (systemd-sysctl skips them when absent).
func TestSysctlConf(t *testing.T) {
	b, err := os.ReadFile(sysctlPath)
	if err != nil {
		t.Fatal(err)
	}
	checkProc := runtime.GOOS == "linux"
	if _, err := os.Stat("/proc/sys/net/core"); err != nil {
		checkProc = false
		t.Logf("no /proc/sys/net/core here (%v): key names are not checked against the kernel", err)
	}
	values := map[string][]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not key = value", sysctlPath, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		k, optional := strings.CutPrefix(k, "-")
		for _, f := range strings.Fields(v) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				t.Fatalf("%s: %s = %q: %q is not an integer", sysctlPath, k, v, f)
			}
			values[k] = append(values[k], n)
		}
		if !checkProc {
			continue
		}
		proc := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if _, err := os.Stat(proc); err != nil {
			if optional {
				t.Logf("%s: optional key %s is absent here (%v)", sysctlPath, k, err)
				continue
			}
			t.Fatalf("%s: key %s does not exist in this kernel: %v", sysctlPath, k, err)
		}
	}
	// The unit's LimitNOFILE cannot exceed fs.nr_open.
	limit, err := strconv.ParseInt(unitKeys(t)["LimitNOFILE"][0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if nrOpen := values["fs.nr_open"]; len(nrOpen) != 1 || nrOpen[0] < limit {
		t.Fatalf("fs.nr_open = %v; want one value >= the unit's LimitNOFILE %d", nrOpen, limit)
	}
	for _, k := range []string{"net.ipv4.tcp_mem", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"} {
		v := values[k]
		if len(v) != 3 || v[0] > v[1] || v[1] > v[2] {
			t.Fatalf("%s = %v; want three non-decreasing values", k, v)
		}
	}
}

// TestSysusers creates the user of deploy/wsfan.sysusers in a scratch root
// directory (systemd-sysusers --root), which checks the file's syntax and
// that it yields the user and group the unit runs as.
func TestSysusers(t *testing.T) {
	sysusers, err := exec.LookPath("systemd-sysusers")
	if err != nil {
		t.Skip("systemd-sysusers is not installed (apt-get install -y systemd); skipping deploy/wsfan.sysusers")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs("../deploy/wsfan.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sysusers, "--root="+root, src).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	keys := unitKeys(t)
	for _, f := range []struct{ file, name string }{
		{"etc/passwd", keys["User"][0]},
		{"etc/group", keys["Group"][0]},
	} {
		b, err := os.ReadFile(filepath.Join(root, f.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(f.name+":")) && !bytes.Contains(b, []byte("\n"+f.name+":")) {
			t.Fatalf("%s after systemd-sysusers has no %q:\n%s", f.file, f.name, b)
		}
	}
}
