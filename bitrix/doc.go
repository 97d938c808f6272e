// Package bitrix is a client for the Bitrix24 REST API: authentication
// with an inbound webhook URL or as an OAuth application, calls with typed
// errors, client-side rate limiting, safe retries, batches and fast
// pagination.
//
//	c, err := bitrix.New(bitrix.WebhookURL("https://portal.bitrix24.com/rest/1/s3cr3t/"))
//	if err != nil { ... }
//	var deal map[string]any
//	resp, err := c.Call(ctx, "crm.deal.get", bitrix.Params{"id": 42}, &deal)
//
// [New] does no network I/O; it validates the auth and the options. A
// [Client] is safe for concurrent use. Parameters ([Params], maps or structs
// with json tags) are sent as a PHP http_build_query form
// (fields[PHONE][0][VALUE]=...), the encoding every Bitrix24 method accepts;
// a json.RawMessage is sent as a JSON body. [Client.Call] decodes "result"
// into its out argument and returns the envelope's total, next and time as
// a [Response]. The wire types [Int], [Float], [Bool], [Time], [Object] and
// [FlexMap] absorb the portal's quirks (numbers as strings, Y/N flags, [] for
// empty objects, portal date formats).
//
// # Auth
//
// [WebhookURL] takes an inbound webhook URL,
// https://portal/rest/{user}/{secret}/; plain http:// is refused unless
// [WithAllowHTTP] is given (loopback test portals).
//
// [OAuth] takes a [Token] pair and the [App] credentials. When the portal
// answers expired_token or invalid_token, the client refreshes the pair once
// for any number of concurrent callers (single flight) and repeats the call
// once; when the token's recorded expiry has already passed it refreshes
// before sending. The refresh is a POST form to [App].TokenURL
// ([DefaultTokenURL]); secrets never travel in a URL. Every new pair is saved
// to the [TokenStore] ([NewMemoryTokenStore] by default; its change callback
// can persist it). A store shared by several processes implements
// [RefreshLocker]: under its lock the client reloads the token and uses a
// newer one if another process refreshed already. A refused refresh
// (invalid_grant) reaches every waiting caller as an error matching
// [ErrRefresh] and [ErrInvalidGrant]: the application must be authorized again.
//
// Credentials are [Secret] values: they print as [REDACTED] through fmt,
// log/slog and encoding/json ([Token] and [App] are slog.LogValuers), and
// are removed from errors, log lines and dump files ([WithDumpDir]), also
// from a token answer cut mid-body. Token stores persist a [Token] with
// [Token.MarshalBinary], the one form that carries its secrets.
//
// # Batch
//
// [Client.NewBatch] collects commands; each [Batch.Add] returns a [BatchCmd]
// whose [BatchCmd.Ref] refers to (part of) its result from later commands
// ($result[name][ID]). [Batch.Run] sends them with the "batch" method: more
// than [MaxBatchCommands] commands are split into several requests, keeping
// every command in the same request as the commands it references (a group
// of more than 50 linked commands is an error, never silently cut). Each
// command has its own [BatchCmd.Err] (an *[APIError] from result_error, or
// [ErrNotRun] after a halt), [BatchCmd.Decode] and [BatchCmd.Response].
//
// # Pagination
//
// [List] fetches one page of 50 rows. [All] iterates over every row as an
// iter.Seq2[T, error]. Without an order (or ordered by id ascending) it runs
// the fast scan the Bitrix24 docs recommend (order by id, filter ">ID" after
// the last row, start=-1 so nothing is counted) with 50 pages chained inside
// one batch request through references, so one HTTP request fetches up to
// 2,500 rows (10,000 rows take 4 requests). Other orders page by offset.
// [Query] names the method's spellings: ItemsKey "items" and IDField "id" for
// crm.item.list, FilterKey "FILTER" and OrderKey "ELEMENT_ORDER" for
// lists.element.get. Memory stays flat and breaking out of the loop stops
// the requests. [WithProgress] reports rows, requests and waits.
//
// # Errors
//
// An error answer is an *[APIError] with the HTTP status, the portal's code
// and description and the method. Match codes with errors.Is and the
// sentinels ([ErrNotFound], [ErrQueryLimitExceeded], [ErrOperationTimeLimit],
// [ErrExpiredToken], [ErrInvalidToken], [ErrNoAuthFound],
// [ErrInsufficientScope], [ErrAccessDenied], [ErrMethodNotFound],
// [ErrInvalidArgument], [ErrWrongAuthType], [ErrBatchLengthExceeded],
// [ErrOverloadLimit], ...); never branch on the status or the text, which
// differ between the portal's code and its docs. An answer that is not a
// Bitrix24 envelope (an HTML 502 page, a truncated body) is a
// *[ResponseError] with the status and a short redacted snippet; a failed
// exchange is a *[TransportError].
//
// Retries follow [RetryPolicy]: any method after a dial error or
// QUERY_LIMIT_EXCEEDED (the request never ran); read-only methods (judged by
// name, see [IsReadOnly]) also after 5xx answers, bad bodies and timeouts;
// never after OVERLOAD_LIMIT or auth errors. A write whose request was sent
// but got no usable answer is not replayed: its error matches
// [ErrMaybeApplied], so the caller can check the portal and reconcile.
//
// # Rate limits
//
// Bitrix24 cloud portals meter requests with a leaky bucket: 2 requests per
// second with a burst of 50 ([DefaultRate], [DefaultBurst]), 5 and 250 on
// Enterprise plans ([EnterpriseRate], [EnterpriseBurst]). Every client waits
// (context-aware) on a [Limiter] before each HTTP request; by default each
// client has its own [NewLimiter]; share one with [WithLimiter] between all
// clients of a portal in a process (a Redis implementation shares it between
// processes), or change it with [WithRateLimit] / [WithoutRateLimit]. The
// in-memory bucket holds [DefaultBurstMargin] requests back from the burst
// ([BurstMargin], [DrainMargin]). The bucket counts requests, not requests
// in flight: [Batch.Run], the bulk operations of crm and lists and [All]
// keep up to [WithParallelism] requests in flight. After a
// QUERY_LIMIT_EXCEEDED answer the client sends one request at a time for
// [WithCooldown].
//
// Each method also has an operating-time budget (seconds of server time per
// 10 minutes, reported as [Timing].Operating). The client paces each method
// within [WithOperatingBudget] from the time.operating of its answers,
// holding requests back until operating_reset_at before the portal would
// refuse them. When the portal answers OPERATION_TIME_LIMIT anyway, the
// [OperatingGate] blocks that method until the operating_reset_at the
// portal reported, the call waits for it, and other methods go on.
//
// Many concurrent single calls can go below the bucket's floor with
// [WithCoalescing]: calls that arrive within a short window are sent
// together as one batch request, and each caller still gets exactly its own
// result or error, as from a separate call.
//
// # Observability
//
// [WithLogger] logs (silent by default); [WithProgress] reports scan pages
// and waits. [WithObserver] installs an [Observer] that sees every call,
// HTTP attempt (with its outcome: ok, API error, transport error, bad
// answer or maybe applied), batch command, wait, retry, token refresh and
// the portal's time block; package bitrix/otelbitrix turns it into
// OpenTelemetry spans and metrics. Without an observer the hooks cost no
// allocation.
package bitrix
