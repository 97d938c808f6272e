package webhook

import (
	"context"
	"sync"
	"time"
)

// DedupeStore remembers which events were already accepted, so that a
// delivery seen twice runs its handler once (see [WithDedupe]).
// Implementations must be safe for concurrent use; a Redis implementation
// maps Claim to SET key NX PX and Release to DEL.
type DedupeStore interface {
	// Claim records key for ttl and reports true if it was not already
	// recorded (the caller may process the event), false if it was.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Release forgets key, so a redelivery is processed again (used when
	// the handler failed).
	Release(ctx context.Context, key string) error
}

// MemoryDedupe is an in-process [DedupeStore] with expiring keys.
type MemoryDedupe struct {
	mu    sync.Mutex
	now   func() time.Time
	keys  map[string]time.Time // key → expiry
	calls int
}

// NewMemoryDedupe returns an empty store. now is the clock (nil means
// time.Now).
func NewMemoryDedupe(now func() time.Time) *MemoryDedupe {
	if now == nil {
		now = time.Now
	}
	return &MemoryDedupe{now: now, keys: map[string]time.Time{}}
}

// Claim implements [DedupeStore]. Expired keys are swept every 256 calls.
func (m *MemoryDedupe) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.calls++
	if m.calls%256 == 0 {
		for k, exp := range m.keys {
			if !now.Before(exp) {
				delete(m.keys, k)
			}
		}
	}
	if exp, ok := m.keys[key]; ok && now.Before(exp) {
		return false, nil
	}
	m.keys[key] = now.Add(ttl)
	return true, nil
}

// Release implements [DedupeStore].
func (m *MemoryDedupe) Release(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.keys, key)
	m.mu.Unlock()
	return nil
}

// Len returns the number of keys held (expired ones included until swept).
func (m *MemoryDedupe) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
