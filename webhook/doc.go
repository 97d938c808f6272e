// Package webhook is an http.Handler that receives Bitrix24 events,
// verifies them and routes them to typed handler functions.
//
//	h, err := webhook.New(webhook.WithApplicationToken(os.Getenv("B24_APP_TOKEN")))
//	h.OnBotMessage(func(ctx context.Context, ev *events.Event, m *events.BotMessage) error {
//		return webhook.Reply(ctx, m, "You wrote: "+m.Params.Message) // as the bot, in its dialog
//	})
//	h.OnDealAdd(func(ctx context.Context, ev *events.Event, d *events.CRMEntity) error { ... })
//	http.Handle("/bitrix24/events", h)
//
// # Statuses
//
// [Handler.ServeHTTP] answers 405 to anything but POST, 413 above the body
// limit, 400 to bodies that are not events, and 401 (JSON error body with
// a reason code such as "token_mismatch" or "unknown_portal", see the
// events.Refused* constants; handler not called; logged at Warn, token not
// logged) when auth[application_token] is missing or wrong or an install
// cannot be proven. A handler error or panic gives 500 (panics are
// recovered and logged with their stack); success gives 200 with a small
// JSON body; 503 when a [WithQueue] queue cannot keep the delivery.
// Bitrix24 does not retry failed deliveries (see "Durable intake").
//
// Bodies are PHP forms, or JSON when Content-Type says so (Chatbots 2.0
// webhook-mode bots, whose docs show both; see events.ParseAny). Route
// their ONIMBOTV2* events with the typed helpers of package imbotv2
// (imbotv2.OnMessage(h, ...)), which a fetch-mode imbotv2.Poller shares.
//
// # Routing
//
// [Handler.Handle] registers a [HandlerFunc] by event name; typed helpers
// such as [Handler.OnBotMessage], [Handler.OnCommand],
// [Handler.OnDealUpdate], [Handler.OnDynamicItemAdd] or
// [Handler.OnTaskAdd] hand over the typed data; each is [On], the generic
// typed route, which takes any event name (and an imbotv2.Poller too).
// [Handler.HandleDefault]
// catches the rest and [Handler.Use] adds [Middleware]. Registering nil or a
// second handler for a name panics. [Handler.Dispatch] runs the routing
// without HTTP, for tests.
//
// # Applications
//
// With [WithApp], ONAPPINSTALL and ONAPPUPDATE are proven before they are
// trusted: the event's refresh token is refreshed with the app's client id
// and secret at Bitrix24's authorization server ([WithOAuthServers]; never
// at an address only the event names), and the answer must name the
// event's portal ([events.VerifyInstall]). Then the new token pair goes to
// a bitrix.TokenStore and the portal's application
// token to an events.Registry (and a [bitrix.TokenDeleter] store forgets
// them again on ONAPPUNINSTALL);
// [Handler.OnAppInstall] runs afterwards (register your chat bot there).
// Handlers of later events call [PortalClient] for a ready *bitrix.Client
// of their portal. A verified ONAPPUNINSTALL removes the portal.
//
// # Duplicates and asynchronous dispatch
//
// [WithDedupe] remembers each event's dedupe key in a [DedupeStore]
// ([MemoryDedupe] by default) and answers repeats without running the
// handler. [WithAsync] answers as soon as an event is queued and runs
// handlers on a bounded pool; a full queue applies backpressure instead of
// dropping events, and [Handler.Shutdown] drains what was accepted.
//
// # Durable intake
//
// [WithQueue] writes each verified delivery to a [Queue] before answering
// 200; workers run the handlers from the queue, retry failures with a
// growing wait ([RetryPolicy]) and move what keeps failing to the queue's
// dead letters ([Queue.DeadLetters], [Queue.Redrive], [Queue.Drop]). A
// worker that dies mid-handler leaves its job to be claimed again after the
// visibility timeout. Delivery is at least once: [JobOf] and
// [events.Event.DedupeKey] let a handler skip what it already did. A
// delivery the queue cannot keep gets 503. [MemoryQueue] keeps jobs in the
// process (retries and dead letters, nothing survives a crash);
// redisstore.Queue keeps them in Redis Streams for several replicas.
//
// # Observability
//
// [WithObserver] installs an [Observer] (the [events.Observer] that the
// offline consumer takes too): deliveries refused (with the reason),
// malformed, duplicate or unavailable, every handler run with its duration
// and outcome, and the asynchronous queue. Package bitrix/otelbitrix turns
// it into OpenTelemetry spans and metrics.
package webhook
