package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRunServesSeededPortal starts the command on a free port, reads the
// webhook URL it prints, lists the seeded deals over plain HTTP and stops it.
func TestRunServesSeededPortal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-seed-deals", "7", "-no-rate-limit"}, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()

	var webhook string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "webhook URL:"); ok {
			webhook = strings.TrimSpace(rest)
			break
		}
	}
	if webhook == "" {
		t.Fatalf("no webhook URL printed (%v)", sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // the rest of the banner

	res, err := http.Get(webhook + "crm.item.list?entityTypeId=2&select[]=id")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Result struct {
			Items []struct{ ID int } `json:"items"`
		} `json:"result"`
		Total int `json:"total"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || page.Total != 7 || len(page.Result.Items) != 7 {
		t.Errorf("HTTP %d, total %d, %d items; want 200, 7 seeded deals", res.StatusCode, page.Total, len(page.Result.Items))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		wantErr bool
		usage   bool
	}{
		{[]string{"-h"}, false, true},
		{[]string{"-help"}, false, true},
		{[]string{"-seed-deals", "many"}, true, true},
		{[]string{"-nope"}, true, true},
		{[]string{"extra"}, true, false},
		{[]string{"-addr", ""}, true, false}, // WithAddr refuses an empty address; run reports it
	} {
		var stderr strings.Builder
		err := run(t.Context(), tc.args, io.Discard, &stderr)
		if (err != nil) != tc.wantErr {
			t.Errorf("run %q: error %v, want error %v", tc.args, err, tc.wantErr)
		}
		if got := strings.Contains(stderr.String(), "Usage: fakeportal"); got != tc.usage {
			t.Errorf("run %q printed usage %v, want %v: %q", tc.args, got, tc.usage, stderr.String())
		}
	}
}
