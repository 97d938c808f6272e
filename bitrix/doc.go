// Package bitrix is a client for the Bitrix24 REST API: authentication
// with an inbound webhook URL or as an OAuth application, calls with typed
// errors, client-side rate limiting, safe retries, batches and fast
// pagination.
//
//	c, err := bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/s3cr3t/"))
//	var deal map[string]any
//	_, err = c.Call(ctx, "crm.deal.get", bitrix.Params{"id": 42}, &deal)
//
// # Auth
//
// [WebhookURL] takes an inbound webhook URL. [OAuth] takes a [Token] pair and
// the [App] credentials; the client refreshes the pair when the portal
// answers expired_token or invalid_token, once for any number of concurrent
// callers, and saves every new pair to a [TokenStore].
//
// # Batch
//
// [Client.NewBatch] collects commands; [BatchCmd.Ref] refers to the result of
// an earlier command.
//
// # Pagination
//
// [List] fetches one page; [All] iterates over every row.
//
// # Errors
//
// Error answers are [*APIError] values matched with errors.Is against
// sentinels such as [ErrNotFound].
//
// # Rate limits
//
// A [Limiter] (leaky bucket, [NewLimiter]) and an [OperatingGate] pace the
// requests.
package bitrix
