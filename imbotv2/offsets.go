package imbotv2

import (
	"context"
	"strconv"
	"sync"
)

// OffsetStore keeps a fetch-mode bot's confirmed offset, so that a
// restarted or replacement worker resumes where the last one stopped. The
// [Poller] saves an offset only after the handlers of every event below it
// returned nil. Implementations must be safe for concurrent use;
// bitrix/redisstore has one for several processes.
type OffsetStore interface {
	// LoadOffset returns the saved offset, or 0 and nil when none is saved.
	LoadOffset(ctx context.Context, key string) (int64, error)
	// SaveOffset stores offset under key.
	SaveOffset(ctx context.Context, key string, offset int64) error
}

// MemoryOffsetStore is an in-process [OffsetStore], the Poller's default:
// a restarted process starts from the portal's own cursor (the last offset
// it was sent), so events handled but not yet confirmed come again.
type MemoryOffsetStore struct {
	mu sync.Mutex
	m  map[string]int64
}

// NewMemoryOffsetStore returns an empty store.
func NewMemoryOffsetStore() *MemoryOffsetStore { return &MemoryOffsetStore{m: map[string]int64{}} }

// LoadOffset implements [OffsetStore].
func (s *MemoryOffsetStore) LoadOffset(_ context.Context, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// SaveOffset implements [OffsetStore].
func (s *MemoryOffsetStore) SaveOffset(_ context.Context, key string, offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int64{}
	}
	s.m[key] = offset
	return nil
}

// OffsetKey is the key a Poller stores a bot's offset under: the portal's
// key (bitrix.Client.PortalKey) and the bot id.
func OffsetKey(portalKey string, botID int) string {
	return portalKey + "/imbotv2/" + strconv.Itoa(botID)
}
