// Package dex runs Dex (github.com/dexidp/dex), a real OpenID Connect provider, for tests of
// OIDC sign-in: static clients and static password users (with groups), in-memory storage,
// serving HTTP on 127.0.0.1 only, the approval screen skipped. A browser or an HTTP client
// signs in through its real login form.
//
// The binary is built by `make testbin` (hack/build-peer.sh dex, wrapper module
// tools/peers/dex) into bin/ at the repository root, or found in $KUBEBUILDER_ASSETS.
package dex

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"

	"gotk.dev/internal/testing/peer"
	"gotk.dev/internal/testing/ports"
)

// BuildHint is the command that builds the dex binary.
const BuildHint = "make testbin"

// Client is an OAuth2 client Dex knows. An empty Secret makes it a public client (PKCE only).
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// User is a static password user; Dex issues Groups in the groups claim (scope "groups").
type User struct {
	Email    string
	Password string
	Username string
	Groups   []string
}

// Options configure the provider.
type Options struct {
	Clients []Client
	Users   []User
}

// Server is a running Dex.
type Server struct {
	issuer string
	proc   *peer.Process
}

// Issuer is the issuer URL, "http://127.0.0.1:<port>/dex".
func (s *Server) Issuer() string { return s.issuer }

// Output is the tail of Dex's log, for failure messages.
func (s *Server) Output() string { return s.proc.Output() }

// Start runs Dex until the end of the test. A missing binary fails the test, naming the
// command that builds it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := peer.Find("", "dex", BuildHint)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := peer.StartWithRetry(func() (*Server, error) { return start(bin, dir, cfg) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.proc.Stop(5 * time.Second) })
	return s
}

func start(bin, dir string, cfg map[string]any) (*Server, error) {
	addr, err := ports.FreeAddr()
	if err != nil {
		return nil, err
	}
	issuer := "http://" + addr + "/dex"
	cfg["issuer"] = issuer
	cfg["web"] = map[string]any{"http": addr}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, err
	}
	proc, err := peer.Start(exec.Command(bin, "serve", file), peer.Options{})
	if err != nil {
		return nil, err
	}
	discovery := issuer + "/.well-known/openid-configuration"
	err = proc.WaitReady(30*time.Second, 100*time.Millisecond, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, discovery, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", discovery, res.Status)
		}
		return nil
	})
	if err != nil {
		proc.Stop(0)
		return nil, fmt.Errorf("dex: %w\n%s", err, proc.Output())
	}
	return &Server{issuer: issuer, proc: proc}, nil
}

// config is Dex's configuration without the addresses (start fills them in).
func config(o Options) (map[string]any, error) {
	var clients, users []any
	for _, c := range o.Clients {
		cl := map[string]any{"id": c.ID, "name": c.ID, "redirectURIs": c.RedirectURIs}
		if c.Secret == "" {
			cl["public"] = true
		} else {
			cl["secret"] = c.Secret
		}
		clients = append(clients, cl)
	}
	for i, u := range o.Users {
		// Dex refuses hashes below bcrypt.DefaultCost at login.
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		users = append(users, map[string]any{"email": u.Email, "hash": string(hash), "username": u.Username,
			"userID": fmt.Sprintf("user-%d", i), "groups": u.Groups})
	}
	return map[string]any{
		"storage":          map[string]any{"type": "memory"},
		"logger":           map[string]any{"level": "info", "format": "text"},
		"oauth2":           map[string]any{"skipApprovalScreen": true},
		"enablePasswordDB": true,
		"staticClients":    clients,
		"staticPasswords":  users,
	}, nil
}
