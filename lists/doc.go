// Package lists is a typed client for Bitrix24 universal lists (lists.*):
// list elements with their PROPERTY_<id> values, the lists themselves and
// their fields.
//
// # Sections
//
//   - Client: [New] wraps a [bitrix.Client]; [WithDateFormat] and
//     [WithLocation] describe the portal's date format.
//   - Lists and fields: [Client.Lists], [Client.Get] (lists.get),
//     [Client.Fields], [Client.Field] (lists.field.get), [List], [Field].
//   - Elements: [Client.Elements] for one list ([IBlockType] plus [ByID] or
//     [ByCode]); [Elements.Add] (ELEMENT_CODE required), [Elements.Get] by
//     id or code, [Elements.List] (one page) and [Elements.All] (every
//     row, fast ID scan) with a [Query], [Elements.Update],
//     [Elements.Patch], [Elements.Delete], [Elements.FileURLs].
//   - Property values: reading, [Element.Property] returns a [Property]
//     ({valueId: value} maps, plain values and arrays) with String, Int,
//     Float, Time and their plural forms; writing, [Fields] with
//     [FieldValue]s built by [Value], [Values], [Date], [DateTime], [File]
//     and [Keep]. Dates use the portal's format ([DateFormat]:
//     "12/31/2024 11:59:59 pm", "31.12.2024 23:59:59", ...).
//   - Bulk: [Elements.AddMany], [Elements.UpdateMany], [Elements.DeleteMany]
//     run through batch requests (50 commands each) and return a [BulkResult]
//     per item in input order.
//
// # Update clears what it does not send
//
// lists.element.update replaces the element: every field that is not sent
// is cleared (file properties keep their files). [Elements.Update] is that
// call. [Elements.Patch] reads the list's fields and the element, merges
// the given fields over the current values and writes everything back, so
// unsent fields survive; it costs three calls and is not atomic.
//
// # Exactly-once adds
//
// An element's ELEMENT_CODE is unique within its list. When the answer to
// an add is lost after the request was sent (an error matching
// [bitrix.ErrMaybeApplied]), [Elements.Add] and [Elements.AddMany] look
// the codes up and report the elements that exist (BulkResult.Recovered);
// only the missing ones are sent again, and the unique code makes the
// portal refuse a duplicate. Nothing is re-sent blindly.
//
// # Errors
//
// Input the portal would reject (no list, no ELEMENT_CODE, no NAME, ...)
// is refused with a [bitrix.ValidationError] naming the field, before any
// request; it matches [bitrix.ErrInvalidArgument]. ERROR_IBLOCK_NOT_FOUND
// and ERROR_ELEMENT_NOT_FOUND match [bitrix.ErrNotFound],
// ERROR_ELEMENT_ALREADY_EXISTS matches [bitrix.ErrAlreadyExists].
package lists
