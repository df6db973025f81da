// Package gitea runs a real Gitea (bin/gitea, built by `make testbin` from the Go module
// proxy) for tests: HTTPS on 127.0.0.1 with a certificate from a fresh CA, its built-in SSH
// server, a SQLite database in a temporary directory, and an admin user with an access token
// of every scope. It is the Git host `flux bootstrap gitea` and notification-controller's
// gitea provider are tested against.
//
//	srv := gitea.New(t, gitea.Options{})
//	_ = srv.CreateOrg(ctx, "fleet")
//	// flux bootstrap gitea --hostname=<srv.Host()> --ca-file=<srv.CACert()> with GITEA_TOKEN=<srv.Token()>
package gitea

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/pki"
	"gotk.dev/internal/testing/ports"
)

// BuildHint is the command that builds the gitea binary.
const BuildHint = "make testbin"

// Admin is the admin user's login.
const Admin = "gotk-admin"

// Options configure a server.
type Options struct {
	// BinDir holds the gitea binary. Default: workspace.BinDir().
	BinDir string
	// StartTimeout bounds the wait for the server to answer. Default 90s.
	StartTimeout time.Duration
}

// Server is a running Gitea. Close stops it and removes its data.
type Server struct {
	host, sshAddr string
	token         string
	certs         *pki.Certs
	dir           string
	proc          *peer.Process
	once          sync.Once
	err           error
}

// Host is "127.0.0.1:<port>", what `flux bootstrap gitea --hostname` takes.
func (s *Server) Host() string { return s.host }

// URL is "https://127.0.0.1:<port>".
func (s *Server) URL() string { return "https://" + s.host }

// SSHAddr is the built-in SSH server's "127.0.0.1:<port>" (user git).
func (s *Server) SSHAddr() string { return s.sshAddr }

// Token is the admin user's access token (every scope).
func (s *Server) Token() string { return s.token }

// CACert is the PEM certificate of the CA that signed the server's certificate.
func (s *Server) CACert() []byte { return s.certs.CAPEM }

// Log is what Gitea printed so far.
func (s *Server) Log() string {
	if s.proc == nil {
		return ""
	}
	return s.proc.Output()
}

// New starts a server for a test and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Start prepares the database and the admin user, then runs `gitea web` and waits until its
// API answers.
func Start(opts Options) (*Server, error) {
	bin, err := peer.Find(opts.BinDir, "gitea", BuildHint)
	if err != nil {
		return nil, err
	}
	static, err := staticRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gotk-gitea-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	if err := s.configure(static); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.prepare(bin); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, s.args("web")...)
	cmd.Env = s.env()
	if s.proc, err = peer.Start(cmd, peer.Options{}); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	// The API answering /version means the server serves.
	probe := func(ctx context.Context) error { return s.API(ctx, "GET", "version", nil, nil) }
	if err := s.proc.WaitReady(timeout, 200*time.Millisecond, probe); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("gitea on %s: %w; output:\n%s", s.host, err, s.proc.Output())
	}
	return s, nil
}

// configure picks the ports and writes the certificate and app.ini.
func (s *Server) configure(static string) error {
	var err error
	if s.host, err = ports.FreeAddr(); err != nil {
		return err
	}
	if s.sshAddr, err = ports.FreeAddr(); err != nil {
		return err
	}
	if s.certs, err = pki.New("gotk test Gitea CA"); err != nil {
		return err
	}
	files, err := s.certs.WriteServerFiles(s.dir)
	if err != nil {
		return err
	}
	_, httpPort, _ := strings.Cut(s.host, ":")
	_, sshPort, _ := strings.Cut(s.sshAddr, ":")
	ini := fmt.Sprintf(appINI, currentUser(), s.dir, httpPort, s.host, sshPort, static, files.Cert, files.Key)
	return os.WriteFile(s.config(), []byte(ini), 0o600)
}

// appINI is Gitea's configuration: HTTPS and SSH on loopback, SQLite, no mail, no
// registration, quiet logs. Gitea refuses to run as root unless told it may.
const appINI = `APP_NAME = gotk test
RUN_USER = %[1]s
RUN_MODE = prod
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
WORK_PATH = %[2]s

[server]
PROTOCOL = https
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[3]s
ROOT_URL = https://%[4]s/
DOMAIN = 127.0.0.1
SSH_DOMAIN = 127.0.0.1
START_SSH_SERVER = true
BUILTIN_SSH_SERVER_USER = git
SSH_LISTEN_HOST = 127.0.0.1
SSH_PORT = %[5]s
SSH_LISTEN_PORT = %[5]s
STATIC_ROOT_PATH = %[6]s
CERT_FILE = %[7]s
KEY_FILE = %[8]s
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[2]s/gitea.db

[security]
INSTALL_LOCK = true

[service]
DISABLE_REGISTRATION = true

[repository]
ROOT = %[2]s/repos
DEFAULT_BRANCH = main

[mailer]
ENABLED = false

[cron]
ENABLED = false

[log]
MODE = console
LEVEL = warn
`

// prepare creates the database and the admin user with its token.
func (s *Server) prepare(bin string) error {
	if out, err := s.run(bin, "migrate"); err != nil {
		return fmt.Errorf("gitea migrate: %w: %s", err, out)
	}
	out, err := s.run(bin, "admin", "user", "create", "--admin", "--username", Admin, "--email", Admin+"@example.com",
		"--random-password", "--must-change-password=false", "--access-token", "--access-token-scopes", "all")
	if err != nil {
		return fmt.Errorf("gitea admin user create: %w: %s", err, out)
	}
	const marker = "Access token was successfully created... "
	i := strings.LastIndex(out, marker)
	if i < 0 {
		return fmt.Errorf("gitea admin user create printed no token: %s", out)
	}
	s.token = strings.Fields(out[i+len(marker):])[0]
	return nil
}

func (s *Server) config() string { return filepath.Join(s.dir, "app.ini") }

func (s *Server) args(cmd ...string) []string {
	return append([]string{"--config", s.config(), "--work-path", s.dir}, cmd...)
}

func (s *Server) env() []string {
	return append(os.Environ(), "HOME="+s.dir, "GITEA_WORK_DIR="+s.dir)
}

func (s *Server) run(bin string, cmd ...string) (string, error) {
	c := exec.Command(bin, s.args(cmd...)...)
	c.Env = s.env()
	out, err := c.CombinedOutput()
	return string(out), err
}

// Close stops the server and deletes its data. Safe to call twice.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.proc != nil {
			s.proc.Stop(10 * time.Second)
		}
		s.err = os.RemoveAll(s.dir)
	})
	return s.err
}
