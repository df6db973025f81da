package gitserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
)

// deployKeyScript is the forced command of every deploy key authorized on the SSH server.
// $1 is the key's state file, "<ro|rw> <repository path>"; a revoked key has none. It lets
// the key fetch from its own repository, push only when read-write, and nothing else, with
// the messages Git hosts give.
const deployKeyScript = `#!/bin/sh
if [ ! -r "$1" ]; then
  echo "ERROR: Permission denied (deploy key revoked)." >&2
  exit 1
fi
read -r mode repo < "$1"
case "$SSH_ORIGINAL_COMMAND" in
"git-upload-pack '$repo'")
  exec git-upload-pack "$repo" ;;
"git-receive-pack '$repo'")
  if [ "$mode" = rw ]; then exec git-receive-pack "$repo"; fi
  echo "ERROR: The key you are authenticating with has been marked as read only." >&2
  exit 1 ;;
esac
echo "ERROR: Repository not found." >&2
exit 1
`

// DeployKeys gives SSH keys registered through a Git host's API (githubapi, gitlabapi,
// bitbucketapi) access to one repository each of an SSHServer, read-only or read-write,
// and takes it back. authorized_keys can only grow, so each key's line runs a forced
// command that reads the key's state file on every connection: rewriting or removing that
// file changes or revokes access.
type DeployKeys struct {
	ssh *SSHServer
	dir string

	mu    sync.Mutex
	lines map[string]bool // fingerprints already in authorized_keys
}

// NewDeployKeys keeps its state in a new temporary directory; Close removes it.
func NewDeployKeys(s *SSHServer) (*DeployKeys, error) {
	dir, err := os.MkdirTemp("", "deploykeys-")
	if err != nil {
		return nil, err
	}
	d := &DeployKeys{ssh: s, dir: dir, lines: map[string]bool{}}
	if err := os.WriteFile(d.script(), []byte(deployKeyScript), 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return d, nil
}

// Close removes the state: every key stops working.
func (d *DeployKeys) Close() error { return os.RemoveAll(d.dir) }

func (d *DeployKeys) script() string { return filepath.Join(d.dir, "deploy-key.sh") }

// Fingerprint is a key's SHA-256 fingerprint in hex (how hosts tell keys apart).
func Fingerprint(pk ssh.PublicKey) string {
	sum := sha256.Sum256(pk.Marshal())
	return hex.EncodeToString(sum[:])
}

func (d *DeployKeys) state(pk ssh.PublicKey) string {
	return filepath.Join(d.dir, "key-"+Fingerprint(pk))
}

// Authorize lets pk reach the repository name (of the SSH server's root), pushing only
// when readWrite. A key authorized before is moved to the new repository and mode.
func (d *DeployKeys) Authorize(pk ssh.PublicKey, name string, readWrite bool) error {
	if d.ssh == nil {
		return nil
	}
	mode := "ro"
	if readWrite {
		mode = "rw"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	state := fmt.Sprintf("%s %s\n", mode, filepath.ToSlash(d.ssh.Path(name)))
	if err := os.WriteFile(d.state(pk), []byte(state), 0o644); err != nil {
		return err
	}
	fp := Fingerprint(pk)
	if d.lines[fp] {
		return nil
	}
	line := fmt.Sprintf(`command="%s %s",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding %s`,
		d.script(), d.state(pk), ssh.MarshalAuthorizedKey(pk))
	if err := d.ssh.AuthorizeKey([]byte(line)); err != nil {
		return err
	}
	d.lines[fp] = true
	return nil
}

// Revoke takes pk's access away.
func (d *DeployKeys) Revoke(pk ssh.PublicKey) error {
	if d.ssh == nil {
		return nil
	}
	if err := os.Remove(d.state(pk)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
