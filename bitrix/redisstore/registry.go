package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/events"
)

// Registry is an [events.Registry] in Redis: the application token of
// each portal, keyed by member id, shared by every replica of the event
// receiver. An ONAPPINSTALL handled by one replica makes the portal's
// later events verifiable on all of them.
//
// Tokens are stored in clear: protect the Redis like any credential store.
type Registry struct {
	rdb redis.UniversalClient
	o   config
}

var _ events.Registry = (*Registry)(nil)

// NewRegistry returns a registry on rdb. It does no I/O; a nil rdb or a
// bad option is an error.
//
// Options used: [WithPrefix], [WithOpTimeout].
func NewRegistry(rdb redis.UniversalClient, opts ...Option) (*Registry, error) {
	o, err := buildConfig("NewRegistry", rdb, opts)
	if err != nil {
		return nil, err
	}
	return &Registry{rdb: rdb, o: o}, nil
}

func (r *Registry) key(memberID string) string { return r.o.prefix + "apptoken:" + memberID }

// Lookup returns the token stored for memberID, events.ErrUnknownPortal
// when there is none, or an error matching [ErrUnavailable].
func (r *Registry) Lookup(ctx context.Context, memberID string) (bitrix.Secret, error) {
	if memberID == "" {
		return "", events.ErrUnknownPortal
	}
	octx, cancel := r.o.opCtx(ctx)
	defer cancel()
	v, err := r.rdb.Get(octx, r.key(memberID)).Result()
	if isNil(err) {
		return "", events.ErrUnknownPortal
	}
	if err != nil {
		return "", wrap(ctx, "registry lookup", err)
	}
	return bitrix.Secret(v), nil
}

// Store saves token for memberID, replacing any previous one.
func (r *Registry) Store(ctx context.Context, memberID string, token bitrix.Secret) error {
	if memberID == "" || token == "" {
		return errors.New("redisstore: registry: member id and token must not be empty")
	}
	octx, cancel := r.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "registry store", r.rdb.Set(octx, r.key(memberID), token.Reveal(), 0).Err())
}

// Delete forgets memberID; deleting an unknown id is not an error.
func (r *Registry) Delete(ctx context.Context, memberID string) error {
	octx, cancel := r.o.opCtx(ctx)
	defer cancel()
	return wrap(ctx, "registry delete", r.rdb.Del(octx, r.key(memberID)).Err())
}
