package artifact

import (
	"strings"
	"sync"
)

// lockMap holds one mutex per object while someone holds or waits for it; entries are
// dropped when the last holder unlocks, so objects that come and go leave nothing behind.
type lockMap struct {
	mu sync.Mutex
	m  map[string]*refLock
}

type refLock struct {
	mu      sync.Mutex
	waiters int
}

// Lock serialises work on one object's artifacts (store, verify, collect) and returns the
// function that releases it; calling that function more than once is harmless.
func (s *Storage) Lock(ref ObjectRef) (unlock func()) {
	key := strings.ToLower(ref.Kind) + "\x00" + ref.Namespace + "\x00" + ref.Name
	s.locks.mu.Lock()
	l := s.locks.m[key]
	if l == nil {
		l = &refLock{}
		s.locks.m[key] = l
	}
	l.waiters++
	s.locks.mu.Unlock()
	l.mu.Lock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Unlock()
			s.locks.mu.Lock()
			l.waiters--
			if l.waiters == 0 {
				delete(s.locks.m, key)
			}
			s.locks.mu.Unlock()
		})
	}
}
