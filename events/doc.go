// Package events parses and verifies the events Bitrix24 delivers to your
// handlers: application events bound with event.bind, outgoing webhooks,
// and chat-bot events.
//
// A delivery is an application/x-www-form-urlencoded POST with PHP-bracket
// keys (data[FIELDS][ID]=42, auth[application_token]=...), every value a
// string, no signature header and no retries. [Parse] reads one into an
// [Event]: the envelope (name, handler id, time, [Auth]) and Data, a typed
// struct chosen by the event name.
//
//	ev, err := events.Parse(r)
//	if err != nil { ... } // ErrMalformed → 400, ErrBodyTooLarge → 413
//	if err := verifier.Verify(ctx, ev); err != nil { ... } // → 401
//	switch d := ev.Data.(type) {
//	case *events.BotMessage:
//		target, _ := d.ReplyTarget()
//	case *events.CRMEntity:
//		id := d.EntityID()
//	}
//
// Package webhook wraps all of this in an http.Handler with routing; use
// this package directly for custom servers, queues and tests.
//
// # Typed data
//
// Every name in [Names] has a Data type: [AppInstall], [AppUninstall],
// [AppTest], [BotMessage] (message add/update/delete and join chat),
// [BotDelete], [CommandAdd], [CRMEntity] (lead, deal, contact, company and
// dynamic items, add/update/delete; dynamic items are smart-process items
// and smart invoices, entity type 31, under the generic name and the
// per-type names of [DynamicItemEventOf]), [Task] (with the portal's literal
// "undefined" sides) and [OfflineNotice]. Maps keyed by ids stay maps
// (data[BOT][567] is BotMessage.Bot[567]). Other events parse into
// [Unknown]; [Event.RawData] and [Event.Form] keep the whole delivery for
// fields the types do not model, and [Event.DecodeData] decodes it into
// your own struct.
//
// # Chatbots 2.0
//
// The imbot.v2 events ([OnBotV2MessageAdd] ... [OnBotV2ReactionChange])
// and the im.v2 user events ([OnIMV2MessageAdd] ...) have typed Data too
// ([BotV2Message], [BotV2JoinChat], [BotV2CommandAdd], ...), built on the
// v2 entities [BotV2], [ChatV2], [MessageV2] and [UserV2], whose fields
// take both the JSON types of Event.get and the strings of webhook
// deliveries. They arrive three ways: a PHP form ([Parse]), a JSON body
// ([ParseJSON]; the v2 docs show both, [ParseAny] picks by Content-Type),
// and an item fetched with imbot.v2.Event.get ([FromJSON], used by package
// imbotv2).
//
// Accessors cover the common questions: [BotMessage.ReplyTarget] and
// [CommandAdd.ReplyTarget] (dialog, bot and the bot's own token),
// [Event.EntityID] and [Event.EntityTypeID] for CRM and task events.
//
// # Verification
//
// Bitrix24 proves a delivery only by auth[application_token], a static
// secret per app and portal. A [Verifier] compares it in constant time with
// configured tokens (outgoing webhooks, rotation) and with a [Registry]
// keyed by member id, filled from ONAPPINSTALL. ONAPPINSTALL itself is not
// trusted on its word: [VerifyInstall] proves it by refreshing its refresh
// token with our app's credentials at the OAuth server and requiring the
// answer to name the event's portal. Failures wrap [ErrMissingToken], [ErrTokenMismatch],
// [ErrUnknownPortal] or [ErrInstallUnverified]; no error quotes a token.
//
// # Secrets
//
// Tokens are bitrix.Secret values. [Event], [Auth] and [Unknown] print
// through fmt and log/slog without tokens, and [Auth] marshals to JSON with
// its tokens redacted; [Event.Form] and [Event.RawData] hold the raw
// delivery and must not be logged.
//
// # Limits
//
// [Limits] bound the body size (1 MiB), bracket nesting (16) and number of
// fields (10,000), so hostile bodies (deep nesting, huge indexes, many keys)
// fail fast with [ErrMalformed] in bounded memory.
//
// # Cost of the raw forms
//
// [Parse] and [ParseBody] decode Data directly, with the results
// encoding/json would give (json tags, case-insensitive keys,
// UnmarshalJSON methods). [Event.RawData] (and [Event.DedupeKey], which
// hashes it) parses the body again on first use, and [Event.Form] decodes
// it on each call, so deliveries that never ask pay for neither.
//
// # Offline events
//
// A [Consumer] drains the offline queue (event.offline.get with clear=0,
// then event.offline.clear or event.offline.error) with at-least-once
// delivery; wake it from an ONOFFLINEEVENT handler with [Consumer.Notify].
package events
