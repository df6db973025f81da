package ociverify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// Cache remembers the verifications that passed, by everything that decided them: the
// provider, the Secrets' content, the accepted identities, the repository and the digest. A
// digest verified once is not verified again until one of those changes; a failure is never
// remembered, so a signature pushed after the artifact is found on the next attempt.
type Cache struct {
	lru *lru.Cache[string, string]
}

// NewCache keeps up to size verified digests.
func NewCache(size int) *Cache {
	l, _ := lru.New[string, string](size)
	return &Cache{lru: l}
}

// Get returns the message of a remembered verification.
func (c *Cache) Get(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	return c.lru.Get(key)
}

// Add remembers a verification that passed.
func (c *Cache) Add(key, msg string) {
	if c != nil {
		c.lru.Add(key, msg)
	}
}

// Key is the cache key of one verification's inputs.
type Key struct {
	Provider    string
	Secret      map[string][]byte
	TrustedRoot []byte
	// LocalRoot tells that TrustedRoot is the controller's, not the object's.
	LocalRoot  bool
	Identities []Identity
	Target     string
}

// String hashes the inputs (secrets included) into an opaque key.
func (k Key) String() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode([]any{k.Provider, k.Target, k.Identities, k.TrustedRoot})
	for _, n := range slices.Sorted(maps.Keys(k.Secret)) {
		_ = enc.Encode([]any{n, k.Secret[n]})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PublicRoot fetches Sigstore's public trusted root through TUF (the root of trust is
// embedded in sigstore-go), keeping it in memory for a day.
type PublicRoot struct {
	// CacheDir is where TUF metadata is kept (the process' home may not be writable).
	CacheDir string

	mu      sync.Mutex
	root    *root.TrustedRoot
	fetched time.Time
}

// Get returns the public trusted root.
func (p *PublicRoot) Get() (*root.TrustedRoot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.root != nil && time.Since(p.fetched) < 24*time.Hour {
		return p.root, nil
	}
	opts := tuf.DefaultOptions()
	if p.CacheDir != "" {
		opts = opts.WithCachePath(p.CacheDir)
	}
	tr, err := root.FetchTrustedRootWithOptions(opts)
	if err != nil {
		return nil, err
	}
	p.root, p.fetched = tr, time.Now()
	return tr, nil
}
