package gitea

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
)

// API sends a request to the REST API (path under /api/v1/) as the admin and decodes the
// answer into out, for a test's setup: organisations, teams, archiving.
func (s *Server) API(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL()+"/api/v1/"+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+s.token)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.certs.ClientConfig().RootCAs, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("gitea %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// CreateOrg creates an organisation owned by the admin.
func (s *Server) CreateOrg(ctx context.Context, name string) error {
	return s.API(ctx, http.MethodPost, "orgs", map[string]any{"username": name}, nil)
}

// CreateTeam creates a team with write access to code in org.
func (s *Server) CreateTeam(ctx context.Context, org, name string) error {
	return s.API(ctx, http.MethodPost, "orgs/"+org+"/teams",
		map[string]any{"name": name, "permission": "write", "units": []string{"repo.code"}}, nil)
}

// CreateRepo creates a repository with a README commit under the admin (owner == Admin) or
// an organisation.
func (s *Server) CreateRepo(ctx context.Context, owner, name string, private bool) error {
	p := "orgs/" + owner + "/repos"
	if owner == Admin {
		p = "user/repos"
	}
	return s.API(ctx, http.MethodPost, p, map[string]any{"name": name, "private": private, "auto_init": true, "default_branch": "main"}, nil)
}

// Archive marks a repository archived (read-only).
func (s *Server) Archive(ctx context.Context, owner, name string) error {
	return s.API(ctx, http.MethodPatch, "repos/"+owner+"/"+name, map[string]any{"archived": true}, nil)
}

// Repo is what a test reads about a repository.
type Repo struct {
	Private  bool   `json:"private"`
	Archived bool   `json:"archived"`
	CloneURL string `json:"clone_url"`
	SSHURL   string `json:"ssh_url"`
}

// Repository reads a repository as the admin.
func (s *Server) Repository(ctx context.Context, owner, name string) (*Repo, error) {
	var r Repo
	if err := s.API(ctx, http.MethodGet, "repos/"+owner+"/"+name, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// DeployKey is a deploy key as Gitea lists it.
type DeployKey struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Key      string `json:"key"`
	ReadOnly bool   `json:"read_only"`
}

// DeployKeys lists a repository's deploy keys.
func (s *Server) DeployKeys(ctx context.Context, owner, name string) ([]DeployKey, error) {
	var keys []DeployKey
	err := s.API(ctx, http.MethodGet, "repos/"+owner+"/"+name+"/keys", nil, &keys)
	return keys, err
}

// Teams lists the teams with access to a repository.
func (s *Server) Teams(ctx context.Context, owner, name string) ([]string, error) {
	var teams []struct {
		Name string `json:"name"`
	}
	if err := s.API(ctx, http.MethodGet, "repos/"+owner+"/"+name+"/teams", nil, &teams); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range teams {
		out = append(out, t.Name)
	}
	return out, nil
}

// RepoPath is the bare repository's directory on disk (Gitea lower-cases names).
func (s *Server) RepoPath(owner, name string) string {
	return filepath.Join(s.dir, "repos", strings.ToLower(owner), strings.ToLower(name)+".git")
}

// PutFile commits content to path on branch through the contents API, creating or
// replacing the file, as a user editing it in the web UI would.
func (s *Server) PutFile(ctx context.Context, owner, name, branch, path, content, message string) error {
	p := "repos/" + owner + "/" + name + "/contents/" + path
	var existing struct {
		SHA string `json:"sha"`
	}
	in := map[string]any{"branch": branch, "content": base64.StdEncoding.EncodeToString([]byte(content)), "message": message}
	if err := s.API(ctx, http.MethodGet, p+"?ref="+branch, nil, &existing); err == nil && existing.SHA != "" {
		in["sha"] = existing.SHA
		return s.API(ctx, http.MethodPut, p, in, nil)
	}
	return s.API(ctx, http.MethodPost, p, in, nil)
}
