package pki

import (
	"crypto/tls"
	"strings"
	"testing"
)

// A client holding ClientConfig completes a mutual TLS handshake with a server holding
// ServerConfig(true); a client without the certificate, or trusting another CA, does not.
func TestMutualTLS(t *testing.T) {
	c := NewForTest(t)
	other := NewForTest(t)
	srvCfg, err := c.ServerConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	dial := func(cfg *tls.Config) error {
		conn, err := tls.Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 reports a rejected client certificate on the first read.
		_, err = conn.Read(make([]byte, 1))
		if err != nil && strings.Contains(err.Error(), "EOF") {
			return nil
		}
		return err
	}
	if err := dial(c.ClientConfig()); err != nil {
		t.Fatalf("mutual TLS with the CA's client certificate: %v", err)
	}
	noCert := c.ClientConfig()
	noCert.Certificates = nil
	if err := dial(noCert); err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if err := dial(other.ClientConfig()); err == nil {
		t.Error("a client trusting another CA accepted the server")
	}
}
