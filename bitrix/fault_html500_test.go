package bitrix_test

import (
	"errors"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// TestHTML500 runs the client against bitrixtest's FaultHTML500 (the
// portal's front end answers an HTML page with HTTP 500 after the method
// ran): a read is retried like any 5xx; a write is not repeated and its
// error matches ErrBadResponse and ErrMaybeApplied, since the documented
// 500 (_includes/system-errors.md INTERNAL_SERVER_ERROR) says nothing about
// whether the write happened.
func TestHTML500(t *testing.T) {
	t.Parallel()
	srv := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithoutOperatingLimit())
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP(), bitrix.WithoutRateLimit(),
		bitrix.WithRetryPolicy(bitrix.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	srv.HTML500(1)
	if _, err := c.Call(ctx, "crm.item.list", bitrix.Params{"entityTypeId": 2}, nil); err != nil {
		t.Fatalf("read after one HTML 500: %v", err)
	}
	if n := srv.CallCount("crm.item.list"); n != 2 {
		t.Errorf("crm.item.list ran %d times, want 2 (one retry)", n)
	}

	srv.HTML500(1)
	_, err = c.Call(ctx, "crm.item.add", bitrix.Params{"entityTypeId": 2, "fields": bitrix.Params{"title": "x"}}, nil)
	var re *bitrix.ResponseError
	if !errors.Is(err, bitrix.ErrMaybeApplied) || !errors.Is(err, bitrix.ErrBadResponse) || !errors.As(err, &re) || re.StatusCode != 500 {
		t.Fatalf("write answered by an HTML 500: %v", err)
	}
	if n := srv.CallCount("crm.item.add"); n != 1 {
		t.Errorf("crm.item.add ran %d times, want 1 (not repeated)", n)
	}
	if n := len(srv.CRMItems(2)); n != 1 {
		t.Errorf("%d deals on the portal, want 1 (the write ran before the error page)", n)
	}
}
