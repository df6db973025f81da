package cluster

import (
	"context"
	"net"
	"strings"
	"testing"

	"gotk.dev/internal/testing/ports"
)

// TestEtcdPortRace hands etcd a client port another process holds (as when a port picked
// free is taken before etcd binds it) and checks that the cluster still starts, etcd
// having been started again on new ports.
func TestEtcdPortRace(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	picks := 0
	freePort = func() (int, error) {
		picks++
		if picks == 1 {
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return ports.Free()
	}
	defer func() { freePort = ports.Free }()
	var logs []string
	c, err := Start(context.Background(), Options{Dir: t.TempDir(), Logf: func(f string, a ...any) {
		logs = append(logs, f)
	}})
	if err != nil {
		t.Fatalf("start after a lost port race: %v", err)
	}
	defer c.Stop()
	if !strings.Contains(strings.Join(logs, "\n"), "lost a port race") {
		t.Fatalf("etcd did not hit the taken port; logs: %q", logs)
	}
	if strings.Contains(c.etcdURL, taken.Addr().String()) {
		t.Fatalf("etcd at %s, the taken address", c.etcdURL)
	}
}
