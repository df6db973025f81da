// Package ports hands out free loopback ports for servers a test starts as separate
// processes (a process cannot be given an already open listener).
package ports

import (
	"net"
	"strconv"
)

// Free returns a TCP port on 127.0.0.1 that nothing listens on right now. Another process
// may take it before the caller binds it; callers that can retry on a bind error should.
func Free() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeAddr returns "127.0.0.1:<port>" for a free port.
func FreeAddr() (string, error) {
	p, err := Free()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}

// TB is the part of testing.TB the helpers below use.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// FreeAddrT is FreeAddr that fails the test on error.
func FreeAddrT(t TB) string {
	t.Helper()
	a, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}
