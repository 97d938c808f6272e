//go:build nodemo

package main

import (
	"context"
	"errors"
	"io"
)

// runDemo is left out of this build (-tags nodemo, the build to deploy):
// the demo links the fake portal, package bitrixtest, and package testing.
func runDemo(_ context.Context, _ config, _, _ io.Writer) error {
	return errors.New("this build has no demo (built with -tags nodemo): configure it for a portal (see -h)")
}
