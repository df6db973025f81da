package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// bootstrapGitHubAPI is the part of GitHub's REST API (v3) bootstrap needs: repositories and deploy
// keys. github.com's API lives at api.github.com; GitHub Enterprise's at <host>/api/v3.
type bootstrapGitHubAPI struct {
	base  string // ends in "/"
	token string
	http  *http.Client
}

// newBootstrapGitHubAPI returns a client for hostname ("github.com" or an Enterprise host[:port])
// that trusts caCert in addition to the system roots.
func newBootstrapGitHubAPI(hostname, token string, caCert []byte) (*bootstrapGitHubAPI, error) {
	base := "https://" + hostname + "/api/v3/"
	if hostname == "github.com" {
		base = "https://api.github.com/"
	}
	if _, err := url.Parse(base); err != nil || strings.ContainsAny(hostname, "/?#@ ") {
		return nil, fmt.Errorf("invalid --hostname %q: want a host name, optionally with a port", hostname)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(caCert) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caCert) {
			return nil, errors.New("--ca-file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &bootstrapGitHubAPI{base: base, token: token, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// bootstrapGitHubError is an API answer other than success, with GitHub's message (never the token).
type bootstrapGitHubError struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *bootstrapGitHubError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, e.Message)
}

// isGitHubNotFound reports a 404 answer.
func isGitHubNotFound(err error) bool {
	var ge *bootstrapGitHubError
	return errors.As(err, &ge) && ge.Status == http.StatusNotFound
}

// do sends in (JSON, when not nil) and decodes the answer into out (when not nil).
func (a *bootstrapGitHubAPI) do(ctx context.Context, method, p string, in, out any) error {
	u := a.base + strings.TrimPrefix(p, "/")
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("User-Agent", "flux/"+Version)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		// net/http errors name the URL, which carries no credentials here.
		return fmt.Errorf("cannot reach the GitHub API at %s: %w", a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		var doc struct {
			Message string `json:"message"`
			Errors  []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		msg := http.StatusText(resp.StatusCode)
		if json.Unmarshal(data, &doc) == nil && doc.Message != "" {
			msg = doc.Message
			for _, e := range doc.Errors {
				if e.Message != "" {
					msg += ": " + e.Message
				}
			}
		}
		return &bootstrapGitHubError{Method: method, URL: u, Status: resp.StatusCode, Message: strings.ReplaceAll(msg, a.token, "<redacted>")}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, u, err)
	}
	return nil
}

// bootstrapGitHubRepo is a repository document (the fields bootstrap reads).
type bootstrapGitHubRepo struct {
	FullName      string `json:"full_name"`
	Private       bool   `json:"private"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	SSHURL        string `json:"ssh_url"`
	DefaultBranch string `json:"default_branch"`
}

func (a *bootstrapGitHubAPI) getRepo(ctx context.Context, owner, name string) (*bootstrapGitHubRepo, error) {
	var r bootstrapGitHubRepo
	if err := a.do(ctx, http.MethodGet, "repos/"+url.PathEscape(owner)+"/"+url.PathEscape(name), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// createRepo creates a repository with an initial commit (auto_init), under the user
// (personal) or an organisation.
func (a *bootstrapGitHubAPI) createRepo(ctx context.Context, owner, name string, personal, private bool) (*bootstrapGitHubRepo, error) {
	p := "orgs/" + url.PathEscape(owner) + "/repos"
	if personal {
		p = "user/repos"
	}
	in := map[string]any{"name": name, "private": private, "auto_init": true}
	var r bootstrapGitHubRepo
	if err := a.do(ctx, http.MethodPost, p, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// bootstrapDeployKey is a deploy key document.
type bootstrapDeployKey struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Key      string `json:"key"`
	ReadOnly bool   `json:"read_only"`
}

func (a *bootstrapGitHubAPI) deployKeysPath(owner, name string) string {
	return "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/keys"
}

func (a *bootstrapGitHubAPI) listDeployKeys(ctx context.Context, owner, name string) ([]bootstrapDeployKey, error) {
	var keys []bootstrapDeployKey
	err := a.do(ctx, http.MethodGet, a.deployKeysPath(owner, name)+"?per_page=100", nil, &keys)
	return keys, err
}

func (a *bootstrapGitHubAPI) addDeployKey(ctx context.Context, owner, name string, key bootstrapDeployKey) error {
	in := map[string]any{"title": key.Title, "key": key.Key, "read_only": key.ReadOnly}
	return a.do(ctx, http.MethodPost, a.deployKeysPath(owner, name), in, nil)
}

func (a *bootstrapGitHubAPI) deleteDeployKey(ctx context.Context, owner, name string, id int64) error {
	return a.do(ctx, http.MethodDelete, fmt.Sprintf("%s/%d", a.deployKeysPath(owner, name), id), nil, nil)
}
