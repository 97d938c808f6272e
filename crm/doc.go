// Package crm is a typed client for the Bitrix24 CRM: crm.item.* for every
// entity type (leads, deals, contacts, companies, quotes, smart invoices,
// smart processes), crm.item.productrow.*, and the legacy
// crm.deal.productrows.get/set.
//
//	c, err := bitrix.New(bitrix.WebhookURL(os.Getenv("B24_WEBHOOK_URL")))
//	cc, err := crm.New(c)
//	deals := cc.Items(crm.Deal)
//	deal, err := deals.Add(ctx, crm.Fields{"title": "Order 1001", "opportunity": crm.MustDecimal("99.90")})
//
// # Items
//
// [Client.Items] takes an entity type id: [Lead], [Deal], [Contact],
// [Company], [Quote], [SmartInvoice] or a smart-process id
// ([IsSmartProcess]: 128-191 or an even id from 1030). [Items.Add],
// [Items.Get], [Items.Update], [Items.Delete], [Items.List] (one page),
// [Items.All] (every row, with the fast ID scan of [bitrix.All]) and
// [Items.Fields] call the crm.item methods of that type.
//
// An [Item] has typed common fields (ID, Title, StageID, CategoryID,
// Opportunity, CurrencyID, AssignedByID, CreatedTime, Parents, OriginID,
// ...) and keeps every other field — user fields ufCrm*/UF_CRM_* included —
// in Extra; [Item.Field], [Item.DecodeField] and [Item.SetField] read and
// write them, and encoding an Item loses nothing. Writes take a [Fields]
// map. [WithOriginalUfNames] switches user fields to their UF_CRM_ names.
//
// # Bulk operations
//
// [Items.AddMany], [Items.UpdateMany] and [Items.DeleteMany] send 50
// commands per batch request and return a [BulkResult] per input, in input
// order. AddMany adds each item exactly once: items carry a marker
// (originatorId + originId, or [WithMarkerField]); after a failure whose
// outcome is unknown — a connection lost after sending, a proxy's 502 — it
// looks the markers up and sends again only the items that are missing.
//
// # Product rows
//
// [Client.ProductRows] calls crm.item.productrow.* for any [Owner];
// [Client.DealProductRows] and [Client.SetDealProductRows] call the legacy
// deal methods with their UPPER_CASE [DealProductRow]. Money is an exact
// [Decimal] (four places); [ProductRow.Sum] and [InvoiceTotal] compute row
// and invoice totals rounded to cents.
//
// # Owner types
//
// [OwnerType] gives the short codes product rows and CRM bindings use (L,
// D, C, CO, Q, SI, and T + lower-case hex for smart processes: 128 → T80);
// [ParseOwnerType] reads them back.
//
// # Errors
//
// Portal errors are *[bitrix.APIError] values matched with errors.Is
// against the core sentinels: bitrix.ErrNotFound (NOT_FOUND,
// OWNER_NOT_FOUND, and the legacy empty-code "The parameter id is invalid
// or not defined." for a deal that does not exist), bitrix.ErrAccessDenied,
// bitrix.ErrInvalidArgument (INVALID_ARG_VALUE, ENTITY_TYPE_NOT_SUPPORTED,
// legacy "... is required" answers). Input that cannot be right — an id of
// 0, no fields, an unknown entity type, a repeated marker — fails with a
// [bitrix.ValidationError] (or [ErrUnknownEntityType]) before any request is sent.
package crm
