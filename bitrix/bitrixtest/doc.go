// Package bitrixtest is an in-memory Bitrix24 portal for tests and demos.
//
// [NewServer] starts a portal on loopback (closed when the test ends);
// [Start] does the same for programs. The portal speaks the real wire
// format: /rest/{method} and /rest/{user}/{secret}/{method} routes, PHP
// bracket forms and JSON bodies, result/next/total/time envelopes, the
// documented error codes and HTTP statuses, batch with references, 50-row
// pages, OAuth tokens that expire and rotate, the leaky-bucket rate limit and
// the per-method operating-time limit.
//
// It does not import package bitrix, so the SDK's own tests can use it;
// everything it returns is a plain value.
package bitrixtest
