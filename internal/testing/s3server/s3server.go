// Package s3server runs a real S3 server for tests: the Versity S3 gateway (versitygw) with
// its posix backend in a temporary directory, on 127.0.0.1, over HTTP or HTTPS.
//
// The versitygw binary is built by `make testbin` (hack/build-peer.sh versitygw) into bin/ at
// the repository root, or found in $KUBEBUILDER_ASSETS like the control-plane binaries.
package s3server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/pki"
	"gotk.dev/internal/testing/ports"
)

// BuildHint is the command that builds the versitygw binary.
const BuildHint = "make testbin"

// Options configure a server.
type Options struct {
	// BinDir holds the versitygw binary. Default: workspace.BinDir() ($KUBEBUILDER_ASSETS,
	// else bin/ at the repository root).
	BinDir string
	// TLS serves HTTPS with a certificate for 127.0.0.1 and localhost signed by a fresh CA
	// (see Server.CAPEM).
	TLS bool
	// Region is the region the server reports. Default us-east-1.
	Region string
	// StartTimeout bounds the wait for the server to answer. Default 30s.
	StartTimeout time.Duration
}

// Server is a running versitygw. Close stops it and removes its data.
type Server struct {
	host      string
	accessKey string
	secretKey string
	region    string
	dataDir   string
	tls       *pki.Certs
	closer    func() error
	once      sync.Once
	err       error
}

// Endpoint is the server address, "127.0.0.1:<port>" (a Bucket's spec.endpoint).
func (s *Server) Endpoint() string { return s.host }

// URL is the base URL, http:// or https://.
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.host
	}
	return "http://" + s.host
}

// AccessKey and SecretKey are the root user's credentials (random per server).
func (s *Server) AccessKey() string { return s.accessKey }

// SecretKey is the root user's secret access key.
func (s *Server) SecretKey() string { return s.secretKey }

// Region is the region the server reports.
func (s *Server) Region() string { return s.region }

// DataDir is the posix backend root: one directory per bucket, objects as files.
func (s *Server) DataDir() string { return s.dataDir }

// CAPEM is the PEM certificate of the CA that signed the server certificate; nil without TLS.
func (s *Server) CAPEM() []byte {
	if s.tls == nil {
		return nil
	}
	return s.tls.CAPEM
}

// ClientCertPEM is a client certificate and key signed by the same CA (versitygw does not ask
// for one; it exercises the client side of spec.certSecretRef); nil without TLS.
func (s *Server) ClientCertPEM() (certPEM, keyPEM []byte) {
	if s.tls == nil {
		return nil, nil
	}
	return s.tls.ClientCertPEM, s.tls.ClientKeyPEM
}

// TLSConfig trusts the server's CA; nil without TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.tls == nil {
		return nil
	}
	// Only the CA: versitygw asks for no client certificate.
	return &tls.Config{RootCAs: s.tls.ClientConfig().RootCAs, MinVersion: tls.VersionTLS12}
}

// Client returns a minio-go client with the root credentials, for seeding buckets.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.host, &minio.Options{
		Creds:     credentials.NewStaticV4(s.accessKey, s.secretKey, ""),
		Secure:    s.tls != nil,
		Region:    s.region,
		Transport: &http.Transport{TLSClientConfig: s.TLSConfig()},
	})
}

// PutObjects creates bucket when it does not exist and uploads files (key -> content)
// through the S3 API, as a user seeding a Bucket source would.
func (s *Server) PutObjects(ctx context.Context, bucket string, files map[string]string) error {
	mc, err := s.Client()
	if err != nil {
		return err
	}
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil {
		return err
	}
	if !ok {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s.region}); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	for k, v := range files {
		if _, err := mc.PutObject(ctx, bucket, k, strings.NewReader(v), int64(len(v)), minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, k, err)
		}
	}
	return nil
}

// Close stops the server and deletes its data. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() { s.err = s.closer() })
	return s.err
}

// Start runs versitygw on a free port with fresh random credentials and waits until it
// answers. A port taken between picking and binding it is retried.
func Start(opts Options) (*Server, error) {
	bin, err := peer.Find(opts.BinDir, "versitygw", BuildHint+" (hack/build-peer.sh versitygw)")
	if err != nil {
		return nil, err
	}
	return peer.StartWithRetry(func() (*Server, error) { return start(bin, opts) })
}

func start(bin string, opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "gotk-s3-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	port, err := ports.Free()
	if err != nil {
		cleanup()
		return nil, err
	}
	s := &Server{
		host:      fmt.Sprintf("127.0.0.1:%d", port),
		accessKey: "AK" + randomHex(8),
		secretKey: "SK" + randomHex(16),
		region:    opts.Region,
		dataDir:   filepath.Join(dir, "data"),
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if err := os.Mkdir(s.dataDir, 0o700); err != nil {
		cleanup()
		return nil, err
	}
	args := []string{"--port", s.host, "--region", s.region, "--quiet"}
	if opts.TLS {
		if s.tls, err = pki.New("gotk test S3 CA"); err != nil {
			cleanup()
			return nil, err
		}
		files, err := s.tls.WriteServerFiles(dir)
		if err != nil {
			cleanup()
			return nil, err
		}
		args = append(args, "--cert", files.Cert, "--key", files.Key)
	}
	args = append(args, "posix", s.dataDir)

	cmd := exec.Command(bin, args...)
	// Credentials through the environment, not argv, so they never show in `ps`.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.accessKey, "ROOT_SECRET_KEY="+s.secretKey)
	proc, err := peer.Start(cmd, peer.Options{})
	if err != nil {
		cleanup()
		return nil, err
	}
	s.closer = func() error {
		// SIGTERM lets versitygw shut down cleanly; it takes a second or two.
		proc.Stop(5 * time.Second)
		return os.RemoveAll(dir)
	}

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := proc.WaitReady(timeout, 50*time.Millisecond, s.probe); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("versitygw on %s: %w; output:\n%s", s.host, err, proc.Output())
	}
	return s, nil
}

// probe asks the service root; any HTTP answer (an unsigned request gets 403) means it serves.
func (s *Server) probe(ctx context.Context) error {
	tr := &http.Transport{TLSClientConfig: s.TLSConfig()}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/", nil)
	req.Header.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
