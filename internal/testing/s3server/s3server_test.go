package s3server

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestMissingBinary(t *testing.T) {
	_, err := Start(Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), BuildHint) {
		t.Fatalf("err = %v, want a hint to run %q", err, BuildHint)
	}
}

func TestStartServeClose(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s, err := Start(Options{TLS: useTLS})
		if err != nil {
			t.Fatal(err)
		}
		mc, err := s.Client()
		if err != nil {
			t.Fatal(err)
		}
		if err := mc.MakeBucket(context.Background(), "probe", minio.MakeBucketOptions{}); err != nil {
			t.Fatalf("tls=%v: %v", useTLS, err)
		}
		if useTLS != strings.HasPrefix(s.URL(), "https://") || useTLS != (s.CAPEM() != nil) {
			t.Errorf("tls=%v: URL %s, CA %v", useTLS, s.URL(), s.CAPEM() != nil)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if c, err := net.Dial("tcp", s.Endpoint()); err == nil {
			c.Close()
			t.Errorf("tls=%v: still listening on %s after Close", useTLS, s.Endpoint())
		}
	}
}
