//go:build nodemo

package main

import (
	"errors"
	"io"
)

// startDemo is left out of this build (-tags nodemo, the build to deploy):
// the demo links the fake portal, package bitrixtest, and package testing.
func startDemo(*config, io.Writer) (func(int), func(), error) {
	return nil, nil, errors.New("no webhook URL (-url or B24_WEBHOOK_URL), and this build has no demo (built with -tags nodemo)")
}
