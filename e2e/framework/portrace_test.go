package framework

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/e2e/cluster"
	"gotk.dev/internal/testing/ports"
)

// fakeControllerEnv makes the test binary, re-executed, act as a controller: it binds
// --health-addr and answers /readyz, or exits the way controller-runtime does when the
// address is taken.
const fakeControllerEnv = "GOTK_E2E_FAKE_CONTROLLER"

func init() {
	if os.Getenv(fakeControllerEnv) != "1" {
		return
	}
	for _, a := range os.Args[1:] {
		if addr, ok := strings.CutPrefix(a, "--health-addr="); ok {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				os.Stderr.WriteString("problem running manager: " + err.Error() + "\n")
				os.Exit(1)
			}
			_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		}
	}
	os.Exit(2)
}

// TestStartRetriesLostPortRace hands a controller a health port another process holds (as
// when a port picked free is taken before the controller binds it) and checks that the
// controller is started again on new ports instead of failing the environment.
func TestStartRetriesLostPortRace(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	picks := 0
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeControllerEnv, "1")
	dir := t.TempDir()
	e := &Env{
		Dir:         dir,
		Cluster:     &cluster.Cluster{Kubeconfig: filepath.Join(dir, "kubeconfig")},
		Controllers: map[string]*Process{},
		opts:        Options{ReadyTimeout: 30 * time.Second, SampleInterval: time.Second, Logf: t.Logf},
		freePort: func() (int, error) {
			picks++
			if picks == 2 { // the second of the first five addresses is --health-addr
				return takenPort, nil
			}
			return ports.Free()
		},
	}
	if err := os.MkdirAll(e.logDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	e.opts.Controllers = []ControllerOptions{{Name: "source-controller"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.startControllers(ctx, map[string]string{"source-controller": self}); err != nil {
		t.Fatalf("startControllers: %v", err)
	}
	p := e.Controllers["source-controller"]
	defer p.Kill()
	if p.HealthAddr == taken.Addr().String() || !p.Running() {
		t.Fatalf("controller on %s (running %v); want it restarted off the taken port %d", p.HealthAddr, p.Running(), takenPort)
	}
	if !strings.Contains(p.LogTail(100), "address already in use") {
		t.Fatalf("the first incarnation did not hit the taken port; log:\n%s", p.LogTail(100))
	}
}
