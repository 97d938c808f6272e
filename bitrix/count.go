package bitrix

import (
	"context"
	"fmt"
)

// Count returns how many rows of a list method match q, in one request and
// without reading them: it asks for the first page (start=0) of q with only
// the id field selected, and returns the answer's "total".
//
// With start >= 0 a list method counts the matching rows for "total"; with
// start=-1 it does not (see [large data] and [list methods]). Counting is
// the portal's work: on very large tables or complex filters it can take
// seconds of the method's operating time, so count once rather than in a
// loop. [All] never counts.
//
// q's Params are sent as given (filter, entityTypeId, ...); "select" is
// replaced by the id field when q uses the default "filter" spelling
// (methods such as lists.element.get, with their own spelling, keep their
// parameters). An answer that carries rows but no total is an error rather
// than a wrong count.
//
// [large data]: https://apidocs.bitrix24.com/settings/performance/huge-data.html
// [list methods]: https://apidocs.bitrix24.com/settings/how-to-call-rest-api/list-methods-pecularities.html
func Count(ctx context.Context, c *Client, q Query) (int, error) {
	q = q.withDefaults()
	p := q.Params.clone()
	p["start"] = 0
	if q.FilterKey == "filter" {
		p["select"] = []string{q.IDField}
	}
	raw, resp, err := c.CallRaw(ctx, q.Method, p)
	if err != nil {
		return 0, err
	}
	rows, err := splitRows(raw, q.ItemsKey)
	if err != nil {
		return 0, fmt.Errorf("bitrix: %s: %w", q.Method, err)
	}
	if resp.Total < len(rows) {
		return 0, fmt.Errorf("bitrix: %s: %w: total %d with %d rows on the first page (the method may not count)", q.Method, ErrBadResponse, resp.Total, len(rows))
	}
	return resp.Total, nil
}
