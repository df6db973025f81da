package artifact

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Handler serves the storage read-only over HTTP: GET and HEAD of artifact files, no
// directory listings, nothing hidden (.blobs, .tmp). A file is served only after its
// content matched the digest in its name (memoized per inode), so a damaged file is never
// handed to a consumer.
func (s *Storage) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Storage) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, "/")
	algo, want, ok := nameDigest(path.Base(rel))
	if !ok || !validRelPath(rel) {
		http.NotFound(w, r)
		return
	}
	f, fi, err := openRegular(filepath.Join(s.base, filepath.FromSlash(rel)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	got, err := s.fileDigest(f, algo)
	if err != nil || got != want {
		// Not the content it claims to be: refuse rather than serve bad bytes. The source
		// controller's next Verify notices and stores the artifact again.
		http.Error(w, "artifact failed its integrity check", http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", `"`+algo+":"+want+`"`)
	// ServeContent handles HEAD, ranges and conditional requests.
	http.ServeContent(w, r, path.Base(rel), fi.ModTime(), f)
}

// Serve listens on addr and serves Handler until ctx ends, then shuts down gracefully.
func (s *Storage) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on an existing listener (tests pass one on 127.0.0.1:0).
func (s *Storage) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
