package crm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// Entity type ids of the built-in CRM types (entityTypeId).
const (
	Lead         = 1  // LEAD, owner type "L"
	Deal         = 2  // DEAL, owner type "D"
	Contact      = 3  // CONTACT, owner type "C"
	Company      = 4  // COMPANY, owner type "CO"
	Quote        = 7  // QUOTE (estimate), owner type "Q"
	SmartInvoice = 31 // SMART_INVOICE, owner type "SI"
)

// oldInvoice is the retired invoice type, which crm.item.* does not support.
const oldInvoice = 5

// Smart-process (SPA) id ranges: 128 <= id < 192, or even ids from 1030.
const (
	smartProcessFirst     = 128
	smartProcessEnd       = 192
	smartProcessHighStart = 1030
)

// IsSmartProcess reports whether id is a valid smart-process (SPA) entity
// type id: 128-191, or an even number from 1030 on (the ids crm.type.add
// accepts).
func IsSmartProcess(id int) bool {
	return id >= smartProcessFirst && id < smartProcessEnd || id >= smartProcessHighStart && id%2 == 0
}

// IsKnownType reports whether crm.item.* can address the entity type id: one
// of the built-in constants ([Lead], [Deal], [Contact], [Company], [Quote],
// [SmartInvoice]) or a smart process ([IsSmartProcess]).
func IsKnownType(id int) bool {
	switch id {
	case Lead, Deal, Contact, Company, Quote, SmartInvoice:
		return true
	}
	return IsSmartProcess(id)
}

// ErrUnknownEntityType is returned (before any request) for an entity type
// id that crm.item.* cannot address, and by [ParseOwnerType] for a code it
// does not know.
var ErrUnknownEntityType = errors.New("crm: unknown entity type")

func checkType(id int) error {
	if id == oldInvoice {
		return fmt.Errorf("%w: entityTypeId 5 (old invoice) is not supported by crm.item.*; use SmartInvoice (31)", ErrUnknownEntityType)
	}
	if !IsKnownType(id) {
		return fmt.Errorf("%w: entityTypeId %d (want 1, 2, 3, 4, 7, 31, 128-191 or an even id from 1030)", ErrUnknownEntityType, id)
	}
	return nil
}

var ownerAbbr = map[int]string{Lead: "L", Deal: "D", Contact: "C", Company: "CO", Quote: "Q", SmartInvoice: "SI"}

// OwnerType returns the short owner-type code of an entity type, as used by
// crm.item.productrow.* (ownerType) and by CRM binding values ("D_12"):
// L, D, C, CO, Q, SI, and "T" + lower-case hex id for smart processes
// (128 → "T80", 1038 → "T40e"). It fails with [ErrUnknownEntityType] for any
// other id.
func OwnerType(entityTypeID int) (string, error) {
	if s, ok := ownerAbbr[entityTypeID]; ok {
		return s, nil
	}
	if IsSmartProcess(entityTypeID) {
		return "T" + strconv.FormatInt(int64(entityTypeID), 16), nil
	}
	return "", fmt.Errorf("%w: no owner type for entityTypeId %d", ErrUnknownEntityType, entityTypeID)
}

// ParseOwnerType is the reverse of [OwnerType]: it returns the entity type id
// of an owner-type code, case-insensitively ("d" → 2, "t80" → 128,
// "T40E" → 1038).
func ParseOwnerType(code string) (int, error) {
	up := strings.ToUpper(strings.TrimSpace(code))
	for id, s := range ownerAbbr {
		if s == up {
			return id, nil
		}
	}
	if len(up) > 1 && up[0] == 'T' {
		hex := up[1:]
		if len(hex) <= 8 && hex[0] != '0' {
			if n, err := strconv.ParseInt(hex, 16, 64); err == nil && IsSmartProcess(int(n)) {
				return int(n), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: owner type %.20q", ErrUnknownEntityType, code)
}

// Client calls the crm.* REST methods through a [bitrix.Client]. Build it with
// [New]; it is safe for concurrent use.
type Client struct {
	c      *bitrix.Client
	origUF bool
}

// Option configures a [Client]. Options validate their arguments; [New]
// returns the first error.
type Option func(*config) error

type config struct {
	origUF bool
}

// WithOriginalUfNames makes crm.item.* calls send useOriginalUfNames=Y, so
// user fields are named UF_CRM_... in requests and answers instead of the
// camelCase ufCrm... spelling (CRM 25.0.0 and later).
func WithOriginalUfNames() Option {
	return func(c *config) error { c.origUF = true; return nil }
}

// New returns a CRM client that calls the portal through c. It does no
// I/O; it fails on a nil client or an invalid option.
func New(c *bitrix.Client, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("crm: New: nil *bitrix.Client")
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return &Client{c: c, origUF: cfg.origUF}, nil
}

// Bitrix returns the underlying core client.
func (c *Client) Bitrix() *bitrix.Client { return c.c }
