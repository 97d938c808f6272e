package lists

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// IBlockType is the IBLOCK_TYPE_ID of a list.
type IBlockType string

// List types.
const (
	TypeLists      IBlockType = "lists"            // universal lists
	TypeProcesses  IBlockType = "bitrix_processes" // workflow processes
	TypeGroupLists IBlockType = "lists_socnet"     // lists of a workgroup (set the group with Elements.InGroup)
)

// Ref identifies a list or an element by id or by symbolic code. Build it
// with [ByID] or [ByCode].
type Ref struct {
	id   int
	code string
}

// ByID refers to a list (IBLOCK_ID) or an element (ELEMENT_ID) by id.
func ByID(id int) Ref { return Ref{id: id} }

// ByCode refers to a list (IBLOCK_CODE) or an element (ELEMENT_CODE) by
// its symbolic code.
func ByCode(code string) Ref { return Ref{code: code} }

// ID returns the id (0 for a code reference).
func (r Ref) ID() int { return r.id }

// Code returns the code ("" for an id reference).
func (r Ref) Code() string { return r.code }

// String returns "id 42" or "code \"deals\"".
func (r Ref) String() string {
	if r.code != "" {
		return fmt.Sprintf("code %q", r.code)
	}
	return "id " + strconv.Itoa(r.id)
}

func (r Ref) check(method, prefix string) error {
	switch {
	case r.id == 0 && r.code == "":
		return invalid(method, prefix+"_ID", "%s_ID or %s_CODE is required (use lists.ByID or lists.ByCode)", prefix, prefix)
	case r.id < 0:
		return invalid(method, prefix+"_ID", "must be a positive id, got %d", r.id)
	case r.code != "" && strings.TrimSpace(r.code) != r.code:
		return invalid(method, prefix+"_CODE", "code %q has surrounding white space", r.code)
	}
	return nil
}

func (r Ref) set(p bitrix.Params, prefix string) {
	if r.code != "" {
		p[prefix+"_CODE"] = r.code
	} else {
		p[prefix+"_ID"] = r.id
	}
}

// Client calls the lists.* methods of one portal. Build it with [New]; it
// is safe for concurrent use.
type Client struct {
	c     *bitrix.Client
	dates *DateFormat
}

// Option configures a [Client]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	dates DateFormat
}

// WithDateFormat sets the layouts (Go time layouts) the portal uses for
// dates in list elements: dateTime for date-time values, date for dates.
// Values are written in these layouts and read with them first (then with
// the other known portal layouts). The default is the US layout of
// English-language cloud portals, "01/02/2006 03:04:05 pm" and
// "01/02/2006"; a portal in Russian or German uses "02.01.2006 15:04:05"
// and "02.01.2006". An empty layout keeps the default; both empty is an
// error.
func WithDateFormat(dateTime, date string) Option {
	return func(c *config) error {
		if dateTime == "" && date == "" {
			return errors.New("lists: WithDateFormat: both layouts empty")
		}
		if dateTime != "" {
			c.dates.DateTime = dateTime
		}
		if date != "" {
			c.dates.Date = date
		}
		return nil
	}
}

// WithLocation sets the time zone of the portal's dates (default UTC):
// the portal writes and reads them in its own zone without an offset. A
// nil location is an error.
func WithLocation(loc *time.Location) Option {
	return func(c *config) error {
		if loc == nil {
			return errors.New("lists: WithLocation: nil location")
		}
		c.dates.Location = loc
		return nil
	}
}

// New returns a lists client that calls the portal through c. It does no
// I/O; it fails on a nil client or an invalid option.
func New(c *bitrix.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("lists: New: nil *bitrix.Client")
	}
	cfg := config{dates: DefaultDateFormat()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	d := cfg.dates
	return &Client{c: c, dates: &d}, nil
}

// DateFormat returns the date layouts in use.
func (c *Client) DateFormat() DateFormat { return *c.dates }

// Elements returns the element methods of one list: iblockType and the
// list's id or code ([ByID], [ByCode]).
func (c *Client) Elements(iblockType IBlockType, list Ref) *Elements {
	return &Elements{c: c, typ: iblockType, list: list}
}

// Elements calls the lists.element.* methods of one list. Build it with
// [Client.Elements].
type Elements struct {
	c      *Client
	typ    IBlockType
	list   Ref
	socnet int
}

// InGroup returns a copy of e for a list of the workgroup groupID
// (SOCNET_GROUP_ID, for TypeGroupLists).
func (e *Elements) InGroup(groupID int) *Elements {
	cp := *e
	cp.socnet = groupID
	return &cp
}

// base returns the list identity params after checking them.
func (e *Elements) base(method string) (bitrix.Params, error) {
	return listParams(method, e.typ, e.list, e.socnet)
}

func listParams(method string, typ IBlockType, list Ref, socnet int) (bitrix.Params, error) {
	if strings.TrimSpace(string(typ)) == "" {
		return nil, invalid(method, "IBLOCK_TYPE_ID", "required (lists.TypeLists, TypeProcesses or TypeGroupLists)")
	}
	if err := list.check(method, "IBLOCK"); err != nil {
		return nil, err
	}
	p := bitrix.Params{"IBLOCK_TYPE_ID": string(typ)}
	list.set(p, "IBLOCK")
	if socnet > 0 {
		p["SOCNET_GROUP_ID"] = socnet
	}
	return p, nil
}

// invalid reports a request the SDK refused to send because the portal
// would reject it.
func invalid(method, field, format string, args ...any) error {
	return &bitrix.ValidationError{Method: method, Field: field, Reason: fmt.Sprintf(format, args...)}
}

func notFound(method, what string) error {
	return &bitrix.APIError{Method: method, Code: "ERROR_ELEMENT_NOT_FOUND", Description: what + " not found"}
}

var errFalse = errors.New("the portal answered false")

func (c *Client) callTrue(ctx context.Context, method string, p bitrix.Params) error {
	var ok bitrix.Bool
	if _, err := c.c.Call(ctx, method, p, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("lists: %s: %w", method, errFalse)
	}
	return nil
}
