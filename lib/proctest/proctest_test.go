package proctest

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartPublishReload runs the real binary: healthy on its free
// addresses, a publish with the configured key is 200 and counted, a
// rewritten key is taken on SIGHUP, the log is kept, SIGTERM exits 0.
func TestStartPublishReload(t *testing.T) {
	const key, newKey = "proctest-key-0123456789", "proctest-key-9876543210"
	p := Start(t, Build(t), "publish_keys = [\""+key+"\"]\ndrain_period = \"50ms\"\n", nil)
	if code := p.Publish(t, key, `{"channel":"a.b","data":1}`); code != 200 {
		t.Fatalf("publish: %d; want 200", code)
	}
	if m := p.Metrics(t); m["wsfan_publications_total"] != 1 {
		t.Fatalf("wsfan_publications_total = %v; want 1", m["wsfan_publications_total"])
	}
	p.Rewrite(t, "publish_keys = [\""+newKey+"\"]\ndrain_period = \"50ms\"\n")
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for p.Publish(t, newKey, `{"channel":"a.b","data":2}`) != 200 {
		time.Sleep(20 * time.Millisecond) // the reload is asynchronous; the test's timeout bounds this
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.Exited; err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Log())
	}
	if !strings.Contains(p.Log(), "msg=stopped") {
		t.Fatalf("the log lacks the stop:\n%s", p.Log())
	}
}
