// Package hook joins the funcs of the observer structs of bitrix and
// events, so that several observers can be installed on one client or
// receiver.
package hook

import "context"

// Join returns a func that calls a then b; nil when both are nil.
func Join[T any](a, b func(context.Context, T)) func(context.Context, T) {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(ctx context.Context, v T) {
		a(ctx, v)
		b(ctx, v)
	}
}

// JoinStart returns a func that calls a, then b with the context a
// returned; nil when both are nil. A nil context returned by either keeps
// the context it was given.
func JoinStart[T any](a, b func(context.Context, T) context.Context) func(context.Context, T) context.Context {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return func(ctx context.Context, v T) context.Context {
		if c := a(ctx, v); c != nil {
			ctx = c
		}
		if c := b(ctx, v); c != nil {
			ctx = c
		}
		return ctx
	}
}
