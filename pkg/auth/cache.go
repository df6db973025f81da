package auth

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Token is a credential and when it stops working. A zero ExpiresAt means unknown: the
// cache keeps it for its maximum duration.
type Token struct {
	// Value is the secret itself (a bearer token, an installation token, a password).
	Value string
	// Username goes with Value where the service wants basic auth (GitHub's
	// "x-access-token", a registry's user name).
	Username  string
	ExpiresAt time.Time
}

// expiryMargin is how long before its expiry a cached token is no longer handed out: a
// token must survive the request (a clone, an image pull) it is fetched for.
const expiryMargin = time.Minute

// CacheOptions bound a TokenCache.
type CacheOptions struct {
	// MaxSize is the number of tokens kept; 0 disables caching.
	MaxSize int
	// MaxDuration is the longest a token is kept, whatever its expiry.
	MaxDuration time.Duration
}

// TokenCache keeps tokens by key (a hash of everything that identifies the credential: the
// provider, the identity, the endpoint, the secret it was made from). It is safe for
// concurrent use, and concurrent misses on one key make one request.
type TokenCache struct {
	opts  CacheOptions
	now   func() time.Time
	mu    sync.Mutex
	lru   *lru.Cache[string, cachedToken]
	group singleflight.Group
}

type cachedToken struct {
	token  Token
	dropAt time.Time
}

// NewTokenCache returns a cache with opts; a nil cache (and MaxSize 0) caches nothing.
func NewTokenCache(opts CacheOptions) *TokenCache {
	if opts.MaxSize <= 0 {
		return nil
	}
	if opts.MaxDuration <= 0 {
		opts.MaxDuration = time.Hour
	}
	l, _ := lru.New[string, cachedToken](opts.MaxSize)
	return &TokenCache{opts: opts, now: time.Now, lru: l}
}

// GetOrFetch returns the cached token for key, or calls fetch and caches what it returns.
// Errors are not cached: the next call asks again. cached reports whether no request was made.
func (c *TokenCache) GetOrFetch(ctx context.Context, key string, fetch func(context.Context) (Token, error)) (tok Token, cached bool, err error) {
	if c == nil {
		tok, err = fetch(ctx)
		return tok, false, err
	}
	if t, ok := c.get(key); ok {
		return t, true, nil
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		if t, ok := c.get(key); ok {
			return t, nil
		}
		t, err := fetch(ctx)
		if err != nil {
			return Token{}, err
		}
		c.put(key, t)
		return t, nil
	})
	if err != nil {
		return Token{}, false, err
	}
	return v.(Token), false, nil
}

// Len is the number of tokens held.
func (c *TokenCache) Len() int {
	if c == nil {
		return 0
	}
	return c.lru.Len()
}

func (c *TokenCache) get(key string) (Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok {
		return Token{}, false
	}
	if !c.now().Before(e.dropAt) {
		c.lru.Remove(key)
		return Token{}, false
	}
	return e.token, true
}

func (c *TokenCache) put(key string, t Token) {
	now := c.now()
	dropAt := now.Add(c.opts.MaxDuration)
	if !t.ExpiresAt.IsZero() {
		if exp := t.ExpiresAt.Add(-expiryMargin); exp.Before(dropAt) {
			dropAt = exp
		}
	}
	if !now.Before(dropAt) {
		return // too close to expiry to be worth keeping
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Add(key, cachedToken{token: t, dropAt: dropAt})
}
