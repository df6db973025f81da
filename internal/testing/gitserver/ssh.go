package gitserver

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDPath is where Debian's openssh-server installs sshd.
const SSHDPath = "/usr/sbin/sshd"

// SSHOptions configure StartSSH.
type SSHOptions struct {
	// Root holds the bare repositories; empty means a new temporary
	// directory. Give an HTTP server's Dir() to serve the same repositories.
	Root string
	// DefaultBranch is the HEAD branch of repositories made by InitRepo.
	DefaultBranch string
	// HostKeyTypes are the host keys sshd offers: "ed25519" (the default),
	// "ecdsa" (P-256) and "rsa" (2048 bits, slow to generate).
	HostKeyTypes []string
}

// SSHServer runs the real OpenSSH sshd on 127.0.0.1, accepting one generated
// client key for the current OS user, so git over SSH (git-upload-pack,
// git-receive-pack) reaches the repositories under its root.
type SSHServer struct {
	*Repos
	dir      string // sshd config, keys, pid file
	tmpRoot  string
	user     string
	port     int
	hostKeys []ssh.PublicKey
	client   []byte // private key PEM
	clientPK ssh.PublicKey
	cmd      *exec.Cmd
	log      *syncBuffer
	done     chan struct{}
}

// StartSSH generates keys, writes an sshd_config and starts sshd on a free
// port. It fails (never skips) when sshd is missing: tests depend on it.
func StartSSH(opts SSHOptions) (*SSHServer, error) {
	if _, err := os.Stat(SSHDPath); err != nil {
		return nil, fmt.Errorf("%s not found: install openssh-server (make test-deps): %w", SSHDPath, err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	s := &SSHServer{user: u.Username, log: &syncBuffer{}}
	if s.dir, err = os.MkdirTemp("", "gitserver-sshd-"); err != nil {
		return nil, err
	}
	root := opts.Root
	if root == "" {
		if s.tmpRoot, err = os.MkdirTemp("", "gitserver-ssh-"); err != nil {
			s.cleanup()
			return nil, err
		}
		root = s.tmpRoot
	}
	if s.Repos, err = NewRepos(root, opts.DefaultBranch); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.writeKeys(opts.HostKeyTypes); err != nil {
		s.cleanup()
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd running as root insists on its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			s.cleanup()
			return nil, fmt.Errorf("create /run/sshd for sshd: %w", err)
		}
	}
	// A free port can be taken between probing and sshd binding it: retry.
	for attempt := 0; ; attempt++ {
		err = s.start()
		if err == nil {
			return s, nil
		}
		if attempt == 4 {
			s.cleanup()
			return nil, err
		}
	}
}

// NewSSH starts an SSH server for a test and closes it when the test ends.
func NewSSH(t testing.TB, opts SSHOptions) *SSHServer {
	t.Helper()
	s, err := StartSSH(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (s *SSHServer) writeKeys(types []string) error {
	if len(types) == 0 {
		types = []string{"ed25519"}
	}
	for _, typ := range types {
		priv, err := generateKey(typ)
		if err != nil {
			return err
		}
		pemBytes, pub, err := encodeKey(priv)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "host_"+typ), pemBytes, 0o600); err != nil {
			return err
		}
		s.hostKeys = append(s.hostKeys, pub)
	}
	priv, err := generateKey("ed25519")
	if err != nil {
		return err
	}
	if s.client, s.clientPK, err = encodeKey(priv); err != nil {
		return err
	}
	return os.WriteFile(s.authorizedKeysPath(), ssh.MarshalAuthorizedKey(s.clientPK), 0o600)
}

func generateKey(typ string) (crypto.Signer, error) {
	switch typ {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case "ecdsa":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("unknown SSH key type %q: want ed25519, ecdsa or rsa", typ)
}

func encodeKey(k crypto.Signer) ([]byte, ssh.PublicKey, error) {
	block, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		return nil, nil, err
	}
	pub, err := ssh.NewPublicKey(k.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(block), pub, nil
}

func (s *SSHServer) authorizedKeysPath() string { return filepath.Join(s.dir, "authorized_keys") }

func (s *SSHServer) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "Port %d\nListenAddress 127.0.0.1\n", s.port)
	entries, _ := filepath.Glob(filepath.Join(s.dir, "host_*"))
	for _, k := range entries {
		fmt.Fprintf(&cfg, "HostKey %s\n", k)
	}
	fmt.Fprintf(&cfg, "PidFile %s\nAuthorizedKeysFile %s\nAllowUsers %s\n",
		filepath.Join(s.dir, "sshd.pid"), s.authorizedKeysPath(), s.user)
	cfg.WriteString("PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n" +
		"PermitRootLogin yes\nUsePAM no\nStrictModes no\nPrintMotd no\nLogLevel VERBOSE\n")
	// bash sources ~/.bashrc for commands run by sshd unless it is nested
	// (SHLVL >= 2): the test user's shell setup (pyenv, nvm...) would add
	// hundreds of milliseconds to every git operation.
	cfg.WriteString("SetEnv SHLVL=1\n")
	cfgPath := filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return err
	}

	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", SSHDPath, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("sshd exited on port %d: %s", s.port, s.log.String())
		default:
		}
		if s.ready() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("sshd did not answer on %s within 10s: %s", s.Addr(), s.log.String())
}

// ready reports that the server sends its SSH banner.
func (s *SSHServer) ready() bool {
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4)
	n, _ := conn.Read(buf)
	return string(buf[:n]) == "SSH-"
}

func (s *SSHServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Close kills sshd and removes its files and a root Start created.
func (s *SSHServer) Close() error {
	s.stop()
	s.cleanup()
	return nil
}

func (s *SSHServer) cleanup() {
	_ = os.RemoveAll(s.dir)
	if s.tmpRoot != "" {
		_ = os.RemoveAll(s.tmpRoot)
	}
}

// Addr is "127.0.0.1:<port>".
func (s *SSHServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// User is the OS user clients log in as (the user running the tests).
func (s *SSHServer) User() string { return s.user }

// RepoURL is ssh://<user>@127.0.0.1:<port>/<root>/<name>.git.
func (s *SSHServer) RepoURL(name string) string {
	return fmt.Sprintf("ssh://%s@%s%s", s.user, s.Addr(), filepath.ToSlash(s.Path(name)))
}

// InitRepo creates an empty bare repository and returns its SSH clone URL.
func (s *SSHServer) InitRepo(name string) (string, error) {
	if err := s.Init(name); err != nil {
		return "", err
	}
	return s.RepoURL(name), nil
}

// KnownHosts is a known_hosts file listing every host key of the server
// under "[127.0.0.1]:<port>".
func (s *SSHServer) KnownHosts() []byte {
	var b bytes.Buffer
	for _, k := range s.hostKeys {
		b.WriteString(knownhosts.Line([]string{s.Addr()}, k) + "\n")
	}
	return b.Bytes()
}

// HostKeys are the server's public host keys.
func (s *SSHServer) HostKeys() []ssh.PublicKey { return s.hostKeys }

// ClientKey is the OpenSSH PEM private key (ed25519, unencrypted) the server
// accepts; the content of a Flux Secret's "identity".
func (s *SSHServer) ClientKey() []byte { return s.client }

// ClientPublicKey is ClientKey's public key in authorized_keys format.
func (s *SSHServer) ClientPublicKey() []byte { return ssh.MarshalAuthorizedKey(s.clientPK) }

// AuthorizeKey adds a public key (authorized_keys format) that may log in.
func (s *SSHServer) AuthorizeKey(authorizedKey []byte) error {
	if _, _, _, _, err := ssh.ParseAuthorizedKey(authorizedKey); err != nil {
		return fmt.Errorf("authorize key: %w", err)
	}
	f, err := os.OpenFile(s.authorizedKeysPath(), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	line := strings.TrimSpace(string(authorizedKey)) + "\n"
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// Log is what sshd logged so far (useful in failure messages).
func (s *SSHServer) Log() string { return s.log.String() }

// syncBuffer is a bytes.Buffer safe for sshd's output goroutine and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
