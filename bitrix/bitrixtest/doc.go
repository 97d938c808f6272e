// Package bitrixtest is an in-memory Bitrix24 portal for tests and demos.
//
// [NewServer] starts a portal on loopback and closes it when the test ends;
// [Start] does the same for programs (call [Server.Close]). The portal
// speaks the real wire format, so an SDK, a bot or a sync job talks to it
// exactly as to a cloud portal. It does not import package bitrix: the
// SDK's own tests use it, and everything it returns is a plain value.
//
// # Sections
//
// Connecting: [Server.WebhookURL] is the inbound webhook of user 1 (an
// administrator; [Server.AddWebhook] makes more); [Server.App] describes the
// installed OAuth application (client id and secret, member id, application
// token, token URL) and [Server.IssueToken] issues an access/refresh pair.
// Routes are /rest/{method}[.json|.xml][/] and /rest/{user}/{secret}/{method},
// method names are case-insensitive, parameters come as a GET query, a PHP
// bracket form, multipart or JSON (body keys override query keys), and the
// OAuth token as auth, access_token or Authorization: Bearer.
//
// Protocol: answers are result/next/total/time envelopes with every time
// field; errors carry the documented codes and HTTP statuses; PHP's [] for
// empty maps is kept. batch runs up to 50 commands with $result/$next/
// $total/$time/$error references and halt; lists page by 50 with start,
// next, total and start=-1; filters take the prefix operators.
//
// OAuth and limits: the fake plays the OAuth server too, mounted at
// URL()+"/oauth" with the layout of https://oauth.bitrix.info: its REST
// root is [App].ServerEndpoint (.../oauth/rest/) and its token endpoint
// [App].TokenURL (.../oauth/oauth/token/), so a client that derives the
// token URL from server_endpoint (minus "rest/", plus "oauth/token/")
// reaches it; URL()+"/oauth/token/" answers too. The token endpoint answers
// refresh_token and authorization_code grants in the documented shape
// (member_id, client_endpoint, domain "oauth.bitrix.info", ...), GET or
// POST; refresh tokens rotate unless
// [WithReusableRefreshTokens]); access tokens expire ([WithAccessTokenTTL],
// [Server.ExpireAccessTokens]). A leaky bucket per portal ([WithRateLimit],
// [WithoutRateLimit]) answers 503 QUERY_LIMIT_EXCEEDED; the per-method
// operating-time limit ([WithOperatingLimit], [WithMethodCost]) answers 429
// OPERATION_TIME_LIMIT. The clock is settable ([WithClock], [Server.Advance],
// [Server.SetTime]) so tests never sleep.
//
// Data: crm.item.* for leads, deals, contacts, companies, quotes, smart
// invoices and smart processes ([Server.AddSmartProcess]); the classic
// crm.deal.*, crm.lead.*, crm.contact.*, crm.company.* over the same store;
// crm.item.productrow.* and crm.deal.productrows.*; universal lists
// ([Server.AddList]); chat bots (imbot.*). Inspect with [Server.CRMItem],
// [Server.CRMItems], [Server.ProductRows], [Server.ListElements],
// [Server.Bots], [Server.BotMessages]; seed quickly with
// [Server.SeedCRMItems] (it raises the events of crm.item.add unless
// [WithoutEvents]).
//
// Events: event.bind/unbind/get (OAuth only), outbound webhooks
// ([Server.AddOutboundWebhook]), the offline queue (event.offline.*), and
// portal-user actions: [Server.SendBotMessage], [Server.SendChatMessage],
// [Server.AddBotToChat], [Server.DeleteBot], [Server.InstallApp],
// [Server.UninstallApp]. Deliveries are real form-urlencoded POSTs; those
// caused by REST calls run in the background unless [WithSyncDelivery];
// [Server.WaitDeliveries] waits for them deterministically and
// [Server.Deliveries] lists them.
//
// Inspection and faults: [Server.Calls], [Server.CallCount],
// [Server.Requests], [Server.RefreshCount]; [Server.FailNext],
// [Server.FailMethod], [Server.FaultRate], [Server.Latency],
// [Server.DropBeforeProcessing], [Server.DropAfterProcessing],
// [Server.HTML502] and [Server.InjectFault].
//
// Methods and stubs: every method, built-in or not, is a [MethodFunc] in
// the server's own method table, copied from the built-in one at start.
// The built-ins live one file per family (methods_im.go has imbot.*,
// methods_imv2.go imbot.v2.*, methods_crm.go crm.item.* and the classic
// crm.deal/lead/contact/company.*, methods_crm_productrow.go product rows,
// methods_lists.go, methods_event.go, methods_basic.go). [Server.Handle]
// gives any method an answer for one server, a method the fake does not
// model or a replacement of a built-in; [Server.On] with [Stub.Return] and
// [Stub.Fail] is the short form. A [MethodFunc] sees the decoded parameters
// and the [Caller] ([Request]) and answers a [Result], an [*APIError] or a
// [Fault]; stubs run behind the same authentication, limits and faults,
// work inside batch with $result references, and are logged ([Server.Calls]
// takes method names to filter).
//
// Control API: every server also answers a JSON control API under
// [ControlRoot] (/_bitrixtest/v1/, [Server.ControlURL] lists its calls), so
// a test in any language can do what the Go helpers do: install the app at
// a handler, act as a user (bot messages v1 and v2, chats, commands, CRM
// and list changes that fire the REST methods' events), read bots,
// messages, items and deliveries (waiting with ?wait=5s), move the clock,
// set limits, inject faults and reset ([Server.Reset], [WithSeed]).
//
// Command fakeportal (bitrix/bitrixtest/cmd/fakeportal) runs a seeded portal
// standalone and prints its URLs, credentials and control URL.
package bitrixtest
