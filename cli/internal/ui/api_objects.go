package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// debounce groups bursts of watch events (a reconcile writes status several times) into one
// push per browser.
const debounce = 200 * time.Millisecond

// visibility is what one request's viewer may see of the hub, each decision asked once.
func (s *Server) visibility(ctx context.Context, v Viewer) func(*Row) bool {
	seen := map[string]bool{}
	return func(r *Row) bool {
		key := r.Kind + "/" + r.Namespace
		if ok, done := seen[key]; done {
			return ok
		}
		res, ok := s.hub.Resource(r.Kind)
		allowed := ok && s.access.CanList(ctx, v, res.Group, res.Resource, r.Namespace)
		seen[key] = allowed
		return allowed
	}
}

// currentPage computes the overview page q for the request's viewer.
func (s *Server) currentPage(r *http.Request, q Query) Page {
	p := page(s.hub.Rows(), q, s.visibility(r.Context(), viewerOf(r)))
	select {
	case <-s.hub.Synced():
		p.Synced = true
	default:
	}
	for _, k := range fluxobj.Kinds() {
		if _, ok := s.hub.Watched(k.Kind); ok {
			p.Kinds = append(p.Kinds, k.Kind)
		}
	}
	return p
}

// listObjects answers one overview page (GET /api/objects?kind=&namespace=&state=&q=&offset=&limit=).
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.currentPage(r, queryFrom(r.URL.Query())))
}

// streamObjects pushes the overview page as server-sent events: at once, then after every
// change of the hub (debounced). One watch per kind feeds every browser; nothing polls.
func (s *Server) streamObjects(w http.ResponseWriter, r *http.Request) {
	q := queryFrom(r.URL.Query())
	s.stream(w, r, func() (any, error) { return s.currentPage(r, q), nil })
}

// stream sends compute's result as an SSE "data:" message whenever the hub changes, skipping
// results equal to the last one sent.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, compute func() (any, error)) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var last []byte
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	for {
		// A stream outlives neither its session's expiry nor a sign-out: it is checked again
		// before every push.
		if _, ok := s.viewer(r); !ok {
			return
		}
		_, changed := s.hub.Changed()
		v, err := compute()
		if err != nil {
			v = map[string]string{"error": err.Error()}
		}
		b, _ := json.Marshal(v)
		if string(b) != string(last) {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			flusher.Flush()
			last = b
		}
	wait:
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			flusher.Flush()
			goto wait
		case <-changed:
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(debounce):
		}
	}
}

// lookup finds the object the URL names in the hub, checking the viewer may see it. It
// answers the request itself (404, 403) when not.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (fluxobj.Kind, *unstructured.Unstructured, *Row, bool) {
	k, err := fluxobj.LookupKind("", r.PathValue("kind"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return k, nil, nil, false
	}
	key := objectKey{k.Kind, r.PathValue("namespace"), r.PathValue("name")}
	u, row, ok := s.hub.Get(key)
	if !ok || !s.visibility(r.Context(), viewerOf(r))(row) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %s/%s not found", k.Kind, key.Namespace, key.Name))
		return k, nil, nil, false
	}
	return k, u, row, true
}

// getObject answers an object's page data (GET /api/objects/{kind}/{namespace}/{name}).
func (s *Server) getObject(w http.ResponseWriter, r *http.Request) {
	k, u, row, ok := s.lookup(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.detailOf(k, u, row))
}

// streamObject pushes an object's page data whenever it (or a dependency's state) changes.
func (s *Server) streamObject(w http.ResponseWriter, r *http.Request) {
	k, _, _, ok := s.lookup(w, r)
	if !ok {
		return
	}
	key := objectKey{k.Kind, r.PathValue("namespace"), r.PathValue("name")}
	s.stream(w, r, func() (any, error) {
		u, row, ok := s.hub.Get(key)
		if !ok {
			return map[string]any{"deleted": true}, nil
		}
		return s.detailOf(k, u, row), nil
	})
}
