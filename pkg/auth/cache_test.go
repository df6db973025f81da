package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewTokenCache(CacheOptions{MaxSize: 2, MaxDuration: 10 * time.Minute})
	c.now = func() time.Time { return now }
	var calls int
	fetch := func(exp time.Time) func(context.Context) (Token, error) {
		return func(context.Context) (Token, error) { calls++; return Token{Value: "t", ExpiresAt: exp}, nil }
	}
	ctx := context.Background()
	get := func(key string, exp time.Time) bool {
		_, cached, err := c.GetOrFetch(ctx, key, fetch(exp))
		if err != nil {
			t.Fatal(err)
		}
		return cached
	}
	if get("a", now.Add(time.Hour)) || !get("a", now.Add(time.Hour)) {
		t.Fatal("a second get of a live token must be cached")
	}
	now = now.Add(10 * time.Minute) // --token-cache-max-duration reached
	if get("a", now.Add(time.Hour)) {
		t.Fatal("a token older than the maximum duration was served")
	}
	if get("b", now.Add(2*time.Minute)) {
		t.Fatal("b was cached before it was fetched")
	}
	now = now.Add(61 * time.Second) // within a minute of b's expiry
	if get("b", now.Add(time.Hour)) {
		t.Fatal("a token within a minute of its expiry was served")
	}
	get("c", time.Time{})
	get("d", time.Time{}) // evicts the least recently used
	if c.Len() != 2 {
		t.Fatalf("cache holds %d tokens, want at most 2", c.Len())
	}
	if calls != 6 {
		t.Fatalf("%d fetches, want 6", calls)
	}
}

func TestTokenCacheDoesNotCacheErrors(t *testing.T) {
	c := NewTokenCache(CacheOptions{MaxSize: 2, MaxDuration: time.Hour})
	refused := errors.New("refused")
	for range 2 {
		if _, _, err := c.GetOrFetch(context.Background(), "k", func(context.Context) (Token, error) { return Token{}, refused }); !errors.Is(err, refused) {
			t.Fatalf("error %v", err)
		}
	}
	if c.Len() != 0 {
		t.Fatal("an error was cached")
	}
}

func TestTokenCacheOneRequestForConcurrentMisses(t *testing.T) {
	c := NewTokenCache(CacheOptions{MaxSize: 2, MaxDuration: time.Hour})
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = c.GetOrFetch(context.Background(), "k", func(context.Context) (Token, error) {
				calls.Add(1)
				<-release
				return Token{Value: "t"}, nil
			})
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests for one key, want 1", n)
	}
}

func TestNilCacheFetchesEveryTime(t *testing.T) {
	c := NewTokenCache(CacheOptions{MaxSize: 0})
	n := 0
	for range 2 {
		_, cached, _ := c.GetOrFetch(context.Background(), "k", func(context.Context) (Token, error) { n++; return Token{}, nil })
		if cached {
			t.Fatal("a disabled cache served a token")
		}
	}
	if n != 2 {
		t.Fatal("a disabled cache must fetch every time")
	}
}
