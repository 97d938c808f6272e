package bitrix

import (
	"context"
	"fmt"
	"sync"
)

// MemoryTokenStore is an in-process [TokenStore]. It is safe for concurrent use.
type MemoryTokenStore struct {
	mu       sync.Mutex
	toks     map[string]Token
	onChange func(key string, tok Token)
}

// NewMemoryTokenStore returns an empty store. onChange, if not nil, is
// called (outside the store's lock) after every SaveToken, for example to
// persist the pair elsewhere.
func NewMemoryTokenStore(onChange func(key string, tok Token)) *MemoryTokenStore {
	return &MemoryTokenStore{toks: map[string]Token{}, onChange: onChange}
}

// LoadToken returns the token saved under key, or ErrTokenNotFound.
func (s *MemoryTokenStore) LoadToken(_ context.Context, key string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.toks[key]
	if !ok {
		return Token{}, ErrTokenNotFound
	}
	return t, nil
}

// SaveToken stores tok under key.
func (s *MemoryTokenStore) SaveToken(_ context.Context, key string, tok Token) error {
	s.mu.Lock()
	s.toks[key] = tok
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange(key, tok)
	}
	return nil
}

// DeleteToken forgets the token saved under key (for an uninstalled app).
// Deleting a key that holds nothing is not an error.
func (s *MemoryTokenStore) DeleteToken(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.toks, key)
	s.mu.Unlock()
	return nil
}

// Format prints the store without its tokens: how many portals it holds.
// (fmt does not call the tokens' own redacting methods inside unexported
// fields, so the store must not be printed field by field.)
func (s *MemoryTokenStore) Format(f fmt.State, _ rune) {
	s.mu.Lock()
	n := len(s.toks)
	s.mu.Unlock()
	fmt.Fprintf(f, "bitrix.MemoryTokenStore{portals: %d}", n)
}
