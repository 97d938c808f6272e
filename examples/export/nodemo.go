//go:build nodemo

package main

import (
	"errors"
	"io"
)

// startDemoPortal is left out of this build (-tags nodemo, the build to
// deploy): the demo links the fake portal, package bitrixtest, and package
// testing.
func startDemoPortal(config, io.Writer) (string, func(), error) {
	return "", nil, errors.New("no webhook URL (-url or B24_WEBHOOK_URL), and this build has no demo (built with -tags nodemo)")
}
