package azurite

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestMissingBinary(t *testing.T) {
	_, err := Start(Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), BuildHint) {
		t.Fatalf("err = %v, want a hint to run %q", err, BuildHint)
	}
}

func TestStartServeClose(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateContainer(context.Background(), "probe", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", s.Host()); err == nil {
		conn.Close()
		t.Errorf("still listening on %s after Close", s.Host())
	}
}
