package bitrix_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/bitrix/bitrixtest"
)

// startPortal starts a fake portal for the examples (a real program uses
// its portal's URL and no WithAllowHTTP).
func startPortal() *bitrixtest.Server {
	srv, err := bitrixtest.Start(bitrixtest.WithoutRateLimit())
	if err != nil {
		log.Fatal(err)
	}
	return srv
}

func Example() {
	srv := startPortal()
	defer srv.Close()
	ctx := context.Background()

	// bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/s3cr3t/") on a real portal.
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	var id int
	if _, err := c.Call(ctx, "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "Website redesign", "OPPORTUNITY": 5000}}, &id); err != nil {
		log.Fatal(err)
	}
	var deal struct {
		ID          bitrix.Int   `json:"ID"`
		Title       string       `json:"TITLE"`
		Opportunity bitrix.Float `json:"OPPORTUNITY"`
	}
	if _, err := c.Call(ctx, "crm.deal.get", bitrix.Params{"id": id}, &deal); err != nil {
		log.Fatal(err)
	}
	fmt.Println(deal.Title, deal.Opportunity)
	// Output: Website redesign 5000
}

func ExampleOAuth() {
	srv := startPortal()
	defer srv.Close()
	ctx := context.Background()
	app, issued := srv.App(), srv.IssueToken(1)

	store := bitrix.NewMemoryTokenStore(func(key string, tok bitrix.Token) {
		fmt.Println("saved a token pair for", key == app.MemberID) // persist it in a real program
	})
	tok := bitrix.Token{
		AccessToken:    bitrix.Secret(issued.AccessToken),
		RefreshToken:   bitrix.Secret(issued.RefreshToken),
		Expires:        issued.Expires,
		MemberID:       issued.MemberID,
		ClientEndpoint: issued.ClientEndpoint,
	}
	c, err := bitrix.New(bitrix.OAuth(tok, bitrix.App{ClientID: app.ClientID, ClientSecret: bitrix.Secret(app.ClientSecret), TokenURL: app.TokenURL}, store),
		bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	srv.ExpireAccessTokens() // the portal now answers expired_token
	var user struct {
		ID bitrix.Int `json:"ID"`
	}
	if _, err := c.Call(ctx, "user.current", nil, &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println("user", user.ID, "refreshes", srv.RefreshCount())
	fmt.Printf("%v\n", tok.AccessToken)
	// Output:
	// saved a token pair for true
	// saved a token pair for true
	// user 1 refreshes 1
	// [REDACTED]
}

func ExampleClient_NewBatch() {
	srv := startPortal()
	defer srv.Close()
	ctx := context.Background()
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	b := c.NewBatch()
	add := b.Add("add", "crm.deal.add", bitrix.Params{"fields": bitrix.Params{"TITLE": "From a batch"}})
	get := b.Add("get", "crm.deal.get", bitrix.Params{"id": add.Ref()}) // $result[add]
	missing := b.Add("", "crm.deal.get", bitrix.Params{"id": 999999})
	if err := b.Run(ctx); err != nil {
		log.Fatal(err)
	}
	var deal struct {
		Title string `json:"TITLE"`
	}
	if err := get.Decode(&deal); err != nil {
		log.Fatal(err)
	}
	fmt.Println(deal.Title)
	fmt.Println(errors.Is(missing.Err(), bitrix.ErrNotFound))
	// Output:
	// From a batch
	// true
}

func ExampleAll() {
	srv := startPortal()
	defer srv.Close()
	if _, err := srv.SeedCRMItems(2, 6000, nil); err != nil { // 6,000 deals
		log.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	q := bitrix.Query{Method: "crm.deal.list", Params: bitrix.Params{"select": []string{"ID", "TITLE"}}}
	rows := 0
	for deal, err := range bitrix.All[struct {
		ID bitrix.Int `json:"ID"`
	}](context.Background(), c, q) {
		if err != nil {
			log.Fatal(err)
		}
		_ = deal.ID
		rows++
	}
	fmt.Println(rows, "rows in", srv.Requests(), "HTTP requests")
	// Output: 6000 rows in 3 HTTP requests
}

func ExampleList() {
	srv := startPortal()
	defer srv.Close()
	if _, err := srv.SeedCRMItems(2, 70, nil); err != nil {
		log.Fatal(err)
	}
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	q := bitrix.Query{Method: "crm.item.list", ItemsKey: "items", IDField: "id", Params: bitrix.Params{"entityTypeId": 2}}
	for start := 0; ; {
		items, resp, err := bitrix.List[map[string]any](context.Background(), c, q, start)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(items), "of", resp.Total)
		if resp.Next == 0 {
			break
		}
		start = resp.Next
	}
	// Output:
	// 50 of 70
	// 20 of 70
}

func ExampleAPIError() {
	srv := startPortal()
	defer srv.Close()
	c, err := bitrix.New(bitrix.WebhookURL(srv.WebhookURL()), bitrix.WithAllowHTTP())
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Call(context.Background(), "crm.item.get", bitrix.Params{"entityTypeId": 2, "id": 424242}, nil)
	var apiErr *bitrix.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, errors.Is(err, bitrix.ErrNotFound))
	}
	// Output: NOT_FOUND true
}

func ExampleNewLimiter() {
	// One limiter for every client of an Enterprise portal in this process.
	limiter, err := bitrix.NewLimiter(bitrix.EnterpriseRate, bitrix.EnterpriseBurst)
	if err != nil {
		panic(err)
	}
	a, _ := bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/secret1/"), bitrix.WithLimiter(limiter))
	b, _ := bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/7/secret2/"), bitrix.WithLimiter(limiter))
	fmt.Println(a.PortalKey() == b.PortalKey())
	// Output: true
}
