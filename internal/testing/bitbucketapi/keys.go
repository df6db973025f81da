package bitbucketapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// accessKey is an SSH key with access to one repository.
type accessKey struct {
	id         int64
	label      string
	text       string
	permission string // REPO_READ or REPO_WRITE
	pk         ssh.PublicKey
}

// AccessKey is what a test can read about an access key.
type AccessKey struct {
	ID         int64
	Label      string
	Key        string
	Permission string
}

func (k *accessKey) doc() map[string]any {
	return map[string]any{"key": map[string]any{"id": k.id, "text": k.text, "label": k.label}, "permission": k.permission}
}

func (s *Server) listKeys(w http.ResponseWriter, key, slug string) {
	s.withRepo(w, key, slug, func(r *repository) {
		values := []map[string]any{}
		for _, k := range r.keys {
			values = append(values, k.doc())
		}
		writeJSON(w, http.StatusOK, page(values, len(values)))
	})
}

func (s *Server) addKey(w http.ResponseWriter, req *http.Request, key, slug string) {
	var body struct {
		Key struct {
			Text  string `json:"text"`
			Label string `json:"label"`
		} `json:"key"`
		Permission string `json:"permission"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON", "")
		return
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(body.Key.Text))
	if err != nil {
		writeError(w, http.StatusBadRequest, "The public key is not a valid SSH key", "com.atlassian.bitbucket.ssh.InvalidSshKeyException")
		return
	}
	if body.Permission != "REPO_READ" && body.Permission != "REPO_WRITE" {
		writeError(w, http.StatusBadRequest, "The permission '"+body.Permission+"' is not valid for an access key", "")
		return
	}
	s.withRepo(w, key, slug, func(r *repository) {
		for _, k := range r.keys {
			if string(k.pk.Marshal()) == string(pk.Marshal()) {
				writeError(w, http.StatusConflict, "This SSH key is already added to this repository", "com.atlassian.bitbucket.ssh.DuplicateAccessKeyException")
				return
			}
		}
		s.nextID++
		k := &accessKey{id: s.nextID, label: body.Key.Label, text: strings.TrimSpace(body.Key.Text), permission: body.Permission, pk: pk}
		if err := s.deploy.Authorize(pk, r.gitName(), k.permission == "REPO_WRITE"); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error(), "")
			return
		}
		r.keys = append(r.keys, k)
		writeJSON(w, http.StatusCreated, k.doc())
	})
}

func (s *Server) deleteKey(w http.ResponseWriter, key, slug, id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.withRepo(w, key, slug, func(r *repository) {
		for i, k := range r.keys {
			if k.id != n {
				continue
			}
			if err := s.deploy.Revoke(k.pk); err != nil {
				writeError(w, http.StatusInternalServerError, err.Error(), "")
				return
			}
			r.keys = append(r.keys[:i], r.keys[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, http.StatusNotFound, "No such access key", "")
	})
}
