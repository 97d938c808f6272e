package lists

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/b24go/sdk/internal/wire"
	"sort"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// List describes a universal list (an information block) as lists.get
// answers.
type List struct {
	ID            int
	IBlockTypeID  string
	Code          string
	Name          string
	Active        bool
	Sort          int
	Description   string
	SocnetGroupID int
	// Extra keeps the other fields (TIMESTAMP_X, BIZPROC, ELEMENTS_NAME, ...).
	Extra map[string]json.RawMessage
}

type wireList struct {
	ID            bitrix.Int  `json:"ID"`
	IBlockTypeID  string      `json:"IBLOCK_TYPE_ID"`
	Code          *string     `json:"CODE"`
	Name          string      `json:"NAME"`
	Active        bitrix.Bool `json:"ACTIVE"`
	Sort          bitrix.Int  `json:"SORT"`
	Description   *string     `json:"DESCRIPTION"`
	SocnetGroupID bitrix.Int  `json:"SOCNET_GROUP_ID"`
}

// UnmarshalJSON decodes a lists.get row, keeping unknown fields in Extra.
func (l *List) UnmarshalJSON(data []byte) error {
	var w wireList
	extra, err := wire.DecodeExtra(data, &w)
	if err != nil {
		return fmt.Errorf("lists: decoding list: %w", err)
	}
	*l = List{ID: int(w.ID), IBlockTypeID: w.IBlockTypeID, Code: deref(w.Code), Name: w.Name, Active: bool(w.Active),
		Sort: int(w.Sort), Description: deref(w.Description), SocnetGroupID: int(w.SocnetGroupID), Extra: extra}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Lists returns every list of a type (lists.get, all pages). For group
// lists pass the group in socnetGroupID (0 otherwise).
//
// Bitrix24 method: [lists.get].
//
// [lists.get]: https://apidocs.bitrix24.com/api-reference/lists/lists/lists-get.html
func (c *Client) Lists(ctx context.Context, iblockType IBlockType, socnetGroupID int) ([]List, error) {
	const method = "lists.get"
	if strings.TrimSpace(string(iblockType)) == "" {
		return nil, invalid(method, "IBLOCK_TYPE_ID", "required")
	}
	p := bitrix.Params{"IBLOCK_TYPE_ID": string(iblockType)}
	if socnetGroupID > 0 {
		p["SOCNET_GROUP_ID"] = socnetGroupID
	}
	q := bitrix.Query{Method: method, Params: p}
	var out []List
	for start := 0; ; {
		page, resp, err := bitrix.List[List](ctx, c.c, q, start)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if resp == nil || resp.Next <= start || len(page) == 0 {
			return out, nil
		}
		start = resp.Next
	}
}

// Get returns one list by id or code (lists.get with IBLOCK_ID or
// IBLOCK_CODE). A missing list matches [bitrix.ErrNotFound].
//
// Bitrix24 method: [lists.get].
//
// [lists.get]: https://apidocs.bitrix24.com/api-reference/lists/lists/lists-get.html
func (c *Client) Get(ctx context.Context, iblockType IBlockType, list Ref) (*List, error) {
	const method = "lists.get"
	p, err := listParams(method, iblockType, list, 0)
	if err != nil {
		return nil, err
	}
	rows, _, err := bitrix.List[List](ctx, c.c, bitrix.Query{Method: method, Params: p}, 0)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &bitrix.APIError{Method: method, Code: "ERROR_IBLOCK_NOT_FOUND", Description: "list " + list.String() + " not found"}
	}
	return &rows[0], nil
}

// Field describes a field of a list (lists.field.get): a system field
// (NAME, SORT, DATE_CREATE, ...) or a property (PROPERTY_<id>).
type Field struct {
	FieldID      string // "NAME", "PROPERTY_1151"
	ID           int    // property id (0 for system fields)
	Sort         int
	Name         string
	Code         string
	IsRequired   bool
	Multiple     bool
	DefaultValue string
	// Type is the list type of the field: "S", "N", "L" (enumeration),
	// "F" (file), "E" (link to elements), "S:Date", "S:DateTime",
	// "S:DiskFile", "S:employee", ... or the system field's own name.
	Type         string
	PropertyType string // S, N, L, F, E, G (properties only)
	UserType     string // the part after ":" of Type ("Date", "DiskFile", ...)
	LinkIBlockID int
	// DisplayValues is DISPLAY_VALUES_FORM: enumeration value id → label.
	DisplayValues map[string]string
	// Extra keeps the other fields (SETTINGS, USER_TYPE_SETTINGS, ...).
	Extra map[string]json.RawMessage
}

// PropertyID returns the property id of a PROPERTY_<id> field, or 0.
func (f *Field) PropertyID() int {
	if f.ID > 0 {
		return f.ID
	}
	id, _ := propertyID(f.FieldID)
	return id
}

// IsFile reports a file field (F, S:DiskFile, or a picture), whose values
// are file ids and cannot be written back by id.
func (f *Field) IsFile() bool {
	t := strings.ToUpper(f.Type)
	return t == "F" || f.PropertyType == "F" || strings.EqualFold(f.UserType, "DiskFile") ||
		t == "PREVIEW_PICTURE" || t == "DETAIL_PICTURE" ||
		strings.EqualFold(f.FieldID, "PREVIEW_PICTURE") || strings.EqualFold(f.FieldID, "DETAIL_PICTURE")
}

type wireField struct {
	FieldID       string          `json:"FIELD_ID"`
	ID            bitrix.Int      `json:"ID"`
	Sort          bitrix.Int      `json:"SORT"`
	Name          string          `json:"NAME"`
	Code          *string         `json:"CODE"`
	IsRequired    bitrix.Bool     `json:"IS_REQUIRED"`
	Multiple      bitrix.Bool     `json:"MULTIPLE"`
	DefaultValue  json.RawMessage `json:"DEFAULT_VALUE"`
	Type          string          `json:"TYPE"`
	PropertyType  *string         `json:"PROPERTY_TYPE"`
	UserType      json.RawMessage `json:"PROPERTY_USER_TYPE"`
	LinkIBlockID  bitrix.Int      `json:"LINK_IBLOCK_ID"`
	DisplayValues json.RawMessage `json:"DISPLAY_VALUES_FORM"`
}

// UnmarshalJSON decodes a lists.field.get entry.
func (f *Field) UnmarshalJSON(data []byte) error {
	var w wireField
	extra, err := wire.DecodeExtra(data, &w)
	if err != nil {
		return fmt.Errorf("lists: decoding field: %w", err)
	}
	out := Field{FieldID: w.FieldID, ID: int(w.ID), Sort: int(w.Sort), Name: w.Name, Code: deref(w.Code),
		IsRequired: bool(w.IsRequired), Multiple: bool(w.Multiple), Type: w.Type, PropertyType: deref(w.PropertyType),
		LinkIBlockID: int(w.LinkIBlockID), Extra: extra}
	out.DefaultValue = rawText(w.DefaultValue)
	if ut := rawText(w.UserType); ut != "" && ut != "0" {
		out.UserType = ut
	}
	if len(w.DisplayValues) > 0 {
		m, err := wire.FlexMap(w.DisplayValues)
		if err != nil {
			return fmt.Errorf("lists: decoding DISPLAY_VALUES_FORM: %w", err)
		}
		if len(m) > 0 {
			out.DisplayValues = make(map[string]string, len(m))
			for k, v := range m {
				out.DisplayValues[k] = rawText(v)
			}
		}
	}
	*f = out
	return nil
}

// rawText returns a JSON string's text, a number's digits, "" for null/false.
func rawText(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	switch string(t) {
	case "", "null", "false", "[]":
		return ""
	}
	var s string
	if json.Unmarshal(t, &s) == nil {
		return s
	}
	return string(t)
}

// Fields returns the fields of a list (lists.field.get without FIELD_ID),
// ordered by SORT.
//
// Bitrix24 method: [lists.field.get].
//
// [lists.field.get]: https://apidocs.bitrix24.com/api-reference/lists/fields/lists-field-get.html
func (c *Client) Fields(ctx context.Context, iblockType IBlockType, list Ref) ([]Field, error) {
	return c.fields(ctx, iblockType, list, 0, "")
}

// Field returns one field (lists.field.get with FIELD_ID, e.g. "NAME" or
// "PROPERTY_1151").
//
// Bitrix24 method: [lists.field.get].
//
// [lists.field.get]: https://apidocs.bitrix24.com/api-reference/lists/fields/lists-field-get.html
func (c *Client) Field(ctx context.Context, iblockType IBlockType, list Ref, fieldID string) (*Field, error) {
	if strings.TrimSpace(fieldID) == "" {
		return nil, invalid("lists.field.get", "FIELD_ID", "required")
	}
	fs, err := c.fields(ctx, iblockType, list, 0, fieldID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, &bitrix.APIError{Method: "lists.field.get", Code: "ERROR_FIELD_NOT_FOUND", Description: "field " + fieldID + " not found"}
	}
	return &fs[0], nil
}

func (c *Client) fields(ctx context.Context, iblockType IBlockType, list Ref, socnet int, fieldID string) ([]Field, error) {
	const method = "lists.field.get"
	p, err := listParams(method, iblockType, list, socnet)
	if err != nil {
		return nil, err
	}
	if fieldID != "" {
		p["FIELD_ID"] = fieldID
	}
	var raw json.RawMessage
	if _, err := c.c.Call(ctx, method, p, &raw); err != nil {
		return nil, err
	}
	return decodeFields(raw)
}

// decodeFields reads the field map (keyed by field id, or by type letter
// when one field was asked for).
func decodeFields(raw json.RawMessage) ([]Field, error) {
	m, err := wire.FlexMap(raw)
	if err != nil {
		return nil, fmt.Errorf("lists: lists.field.get: %w", err)
	}
	out := make([]Field, 0, len(m))
	for k, v := range m {
		var f Field
		if err := json.Unmarshal(v, &f); err != nil {
			return nil, fmt.Errorf("lists: lists.field.get: field %s: %w", k, err)
		}
		if f.FieldID == "" {
			f.FieldID = k
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sort != out[j].Sort {
			return out[i].Sort < out[j].Sort
		}
		return out[i].FieldID < out[j].FieldID
	})
	return out, nil
}
