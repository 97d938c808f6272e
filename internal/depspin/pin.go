//go:build tools

// Package depspin keeps the module's chosen dependencies in go.mod while the
// packages that use them are being written. Delete it once every dependency is
// imported by real code.
package depspin

import (
	_ "github.com/go-resty/resty/v2"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/gorilla/schema"
	_ "github.com/redis/go-redis/v9"
	_ "golang.org/x/sync/singleflight"
)
