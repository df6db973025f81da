package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"

	"gotk.dev/cli/pkg/kube"
)

// agentAuth is the SSH agent's keys for the CLI's own clone and push, with the host key
// pinned to the one scanned (and stored in the cluster's known_hosts).
type agentAuth struct {
	*gitssh.PublicKeysCallback
	algorithms []string
}

func (a *agentAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeysCallback.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.HostKeyAlgorithms = a.algorithms
	cfg.Timeout = kube.ConnectTimeout
	return cfg, nil
}

// newAgentAuth connects to the agent at $SSH_AUTH_SOCK.
func newAgentAuth(user string, knownHosts []byte) (*agentAuth, error) {
	if os.Getenv("SSH_AUTH_SOCK") == "" {
		return nil, errors.New("no SSH key to push with: give --private-key-file, or run an SSH agent (SSH_AUTH_SOCK is not set)")
	}
	_, _, key, _, _, err := ssh.ParseKnownHosts(knownHosts)
	if err != nil {
		return nil, err
	}
	cb, err := gitssh.NewSSHAgentAuth(user)
	if err != nil {
		return nil, fmt.Errorf("cannot use the SSH agent: %w", err)
	}
	cb.HostKeyCallback = ssh.FixedHostKey(key)
	algorithms := []string{key.Type()}
	if key.Type() == ssh.KeyAlgoRSA {
		algorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return &agentAuth{PublicKeysCallback: cb, algorithms: algorithms}, nil
}

// scpLikeURL is git's "user@host:path" form (no scheme; a one-letter host is a Windows
// drive, not a host).
var scpLikeURL = regexp.MustCompile(`^(?:([^@/:]+)@)?([^@/:]{2,}):(.+)$`)

// SSHURL rewrites "git@host:org/repo.git" to "ssh://git@host/org/repo.git" (and
// "host:/srv/repo" to "ssh://host/srv/repo"); other URLs are returned unchanged.
func SSHURL(s string) string {
	if strings.Contains(s, "://") {
		return s
	}
	m := scpLikeURL.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	userinfo := ""
	if m[1] != "" {
		userinfo = m[1] + "@"
	}
	return "ssh://" + userinfo + m[2] + "/" + strings.TrimPrefix(m[3], "/")
}
