package bitrixtest_test

import (
	"net/http"
	"net/http/httptest"
)

func newLoopback(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
