package gitlabapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// deployKey is one key registered on a project.
type deployKey struct {
	id        int64
	title     string
	key       string // "<type> <base64>", without comment
	canPush   bool
	pk        ssh.PublicKey
	createdAt time.Time
}

// DeployKey is what a test can read about a deploy key.
type DeployKey struct {
	ID      int64
	Title   string
	Key     string
	CanPush bool
}

func (k *deployKey) public() DeployKey {
	return DeployKey{ID: k.id, Title: k.title, Key: k.key, CanPush: k.canPush}
}

func (k *deployKey) doc() map[string]any {
	return map[string]any{"id": k.id, "title": k.title, "key": k.key, "can_push": k.canPush, "created_at": k.createdAt}
}

func (s *Server) listKeys(w http.ResponseWriter, who caller, id string) {
	if who != authenticated {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	s.withProject(w, id, func(p *project) {
		docs := []map[string]any{}
		for _, k := range p.keys {
			docs = append(docs, k.doc())
		}
		writeJSON(w, http.StatusOK, docs)
	})
}

func (s *Server) addKey(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Title   string `json:"title"`
		Key     string `json:"key"`
		CanPush bool   `json:"can_push"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(body.Key))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, map[string][]string{"key": {"is invalid"}})
		return
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
	s.withProject(w, id, func(p *project) {
		for _, k := range p.keys {
			if k.key == key {
				writeMessage(w, http.StatusBadRequest, map[string][]string{"deploy_key.fingerprint_sha256": {"has already been taken"}})
				return
			}
		}
		s.nextID++
		k := &deployKey{id: s.nextID, title: body.Title, key: key, canPush: body.CanPush, pk: pk, createdAt: time.Now().UTC().Truncate(time.Second)}
		if err := s.deploy.Authorize(pk, p.fullPath(), k.canPush); err != nil {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		p.keys = append(p.keys, k)
		writeJSON(w, http.StatusCreated, k.doc())
	})
}

func (s *Server) deleteKey(w http.ResponseWriter, id, keyID string) {
	n, _ := strconv.ParseInt(keyID, 10, 64)
	s.withProject(w, id, func(p *project) {
		for i, k := range p.keys {
			if k.id != n {
				continue
			}
			if err := s.deploy.Revoke(k.pk); err != nil {
				writeMessage(w, http.StatusInternalServerError, err.Error())
				return
			}
			p.keys = append(p.keys[:i], p.keys[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeMessage(w, http.StatusNotFound, "404 Deploy Key Not Found")
	})
}

// deployToken is a project deploy token; only read_repository is honoured (Git fetches).
type deployToken struct {
	id       int64
	name     string
	username string
	token    string
	scopes   []string
	revoked  bool
}

// DeployToken is what a test can read about a deploy token.
type DeployToken struct {
	ID       int64
	Name     string
	Username string
	Revoked  bool
}

func (t *deployToken) public() DeployToken {
	return DeployToken{ID: t.id, Name: t.name, Username: t.username, Revoked: t.revoked}
}

func (t *deployToken) doc(withToken bool) map[string]any {
	d := map[string]any{"id": t.id, "name": t.name, "username": t.username, "scopes": t.scopes,
		"revoked": t.revoked, "expired": false, "expires_at": nil}
	if withToken {
		d["token"] = t.token
	}
	return d
}

func (s *Server) listTokens(w http.ResponseWriter, who caller, id string) {
	if who != authenticated {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	s.withProject(w, id, func(p *project) {
		docs := []map[string]any{}
		for _, t := range p.tokens {
			docs = append(docs, t.doc(false))
		}
		writeJSON(w, http.StatusOK, docs)
	})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Name     string   `json:"name"`
		Username string   `json:"username"`
		Scopes   []string `json:"scopes"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return
	}
	if body.Name == "" || len(body.Scopes) == 0 {
		writeMessage(w, http.StatusBadRequest, "400 Bad request - name, scopes are missing")
		return
	}
	s.withProject(w, id, func(p *project) {
		s.nextID++
		t := &deployToken{id: s.nextID, name: body.Name, username: body.Username, scopes: body.Scopes, token: "gldt-" + randomHex(10)}
		if t.username == "" {
			t.username = fmt.Sprintf("gitlab+deploy-token-%d", t.id)
		}
		p.tokens = append(p.tokens, t)
		writeJSON(w, http.StatusCreated, t.doc(true))
	})
}

func (s *Server) deleteToken(w http.ResponseWriter, id, tokenID string) {
	n, _ := strconv.ParseInt(tokenID, 10, 64)
	s.withProject(w, id, func(p *project) {
		for i, t := range p.tokens {
			if t.id == n {
				p.tokens = append(p.tokens[:i], p.tokens[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeMessage(w, http.StatusNotFound, "404 Deploy Token Not Found")
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
