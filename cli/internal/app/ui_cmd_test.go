package app

import "testing"

// TestUIRefusesNonLoopbackAddresses: flux ui acts with the user's credentials, so it never
// listens where another machine could reach it (--in-cluster has its own sign-in).
func TestUIRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9292", ":9292", "10.1.2.3:80", "example.com:80"} {
		r := runFlux(t, "", "ui", "--address", addr)
		if r.code == 0 {
			t.Fatalf("flux ui --address %s succeeded", addr)
		}
		wants(t, "stderr", r.stderr, "listens only on a loopback address")
	}
	r := runFlux(t, "", "ui", "--address", "nonsense")
	wants(t, "stderr", r.stderr, `invalid --address "nonsense"`)
}
