package githubapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"gotk.dev/internal/testing/gitserver"
)

// deployKey is one key registered on a repository.
type deployKey struct {
	id          int64
	title       string
	key         string // "<type> <base64>", without comment
	readOnly    bool
	fingerprint string
	pk          ssh.PublicKey
	createdAt   time.Time
}

// DeployKey is what a test can read about a deploy key.
type DeployKey struct {
	ID       int64
	Title    string
	Key      string // authorized_keys format without comment
	ReadOnly bool
}

func (k *deployKey) public() DeployKey {
	return DeployKey{ID: k.id, Title: k.title, Key: k.key, ReadOnly: k.readOnly}
}

// keyDoc is GitHub's deploy key document.
type keyDoc struct {
	ID        int64     `json:"id"`
	Key       string    `json:"key"`
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Verified  bool      `json:"verified"`
	CreatedAt time.Time `json:"created_at"`
	ReadOnly  bool      `json:"read_only"`
	AddedBy   string    `json:"added_by"`
}

func (s *Server) keyDoc(r *repository, k *deployKey) keyDoc {
	return keyDoc{ID: k.id, Key: k.key, URL: fmt.Sprintf("%srepos/%s/keys/%d", s.APIURL(), r.gitName(), k.id),
		Title: k.title, Verified: true, CreatedAt: k.createdAt, ReadOnly: k.readOnly, AddedBy: s.opts.Login}
}

// withRepo runs f with s.mu held and the repository found, or answers 404.
func (s *Server) withRepo(w http.ResponseWriter, owner, name string, f func(r *repository)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	f(r)
}

func (s *Server) listKeys(w http.ResponseWriter, owner, name string) {
	s.withRepo(w, owner, name, func(r *repository) {
		docs := []keyDoc{}
		for _, k := range r.keys {
			docs = append(docs, s.keyDoc(r, k))
		}
		writeJSON(w, http.StatusOK, docs)
	})
}

func (s *Server) findKey(w http.ResponseWriter, r *repository, id string) (int, *deployKey) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err == nil {
		for i, k := range r.keys {
			if k.id == n {
				return i, k
			}
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return -1, nil
}

func (s *Server) getKey(w http.ResponseWriter, owner, name, id string) {
	s.withRepo(w, owner, name, func(r *repository) {
		if _, k := s.findKey(w, r, id); k != nil {
			writeJSON(w, http.StatusOK, s.keyDoc(r, k))
		}
	})
}

// addKeyRequest is the body of POST /repos/{owner}/{repo}/keys. read_only defaults to false.
type addKeyRequest struct {
	Title    string `json:"title"`
	Key      string `json:"key"`
	ReadOnly bool   `json:"read_only"`
}

func (s *Server) addKey(w http.ResponseWriter, req *http.Request, owner, name string) {
	var body addKeyRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(body.Key))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation Failed", fieldError{Resource: "PublicKey", Code: "custom",
			Field: "key", Message: "key is invalid. You must supply a key in OpenSSH public key format"})
		return
	}
	fp := gitserver.Fingerprint(pk)
	s.withRepo(w, owner, name, func(r *repository) {
		if _, used := s.keys[fp]; used {
			writeError(w, http.StatusUnprocessableEntity, "Validation Failed",
				fieldError{Resource: "PublicKey", Code: "custom", Field: "key", Message: "key is already in use"})
			return
		}
		s.nextID++
		k := &deployKey{id: s.nextID, title: body.Title, readOnly: body.ReadOnly, fingerprint: fp, pk: pk,
			key:       strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))),
			createdAt: time.Now().UTC().Truncate(time.Second)}
		if err := s.deploy.Authorize(pk, r.gitName(), !k.readOnly); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		s.keys[fp] = r.gitName()
		r.keys = append(r.keys, k)
		writeJSON(w, http.StatusCreated, s.keyDoc(r, k))
	})
}

func (s *Server) deleteKey(w http.ResponseWriter, owner, name, id string) {
	s.withRepo(w, owner, name, func(r *repository) {
		i, k := s.findKey(w, r, id)
		if k == nil {
			return
		}
		if err := s.deploy.Revoke(k.pk); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		delete(s.keys, k.fingerprint)
		r.keys = append(r.keys[:i], r.keys[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
	})
}
