package lists

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/b24go/sdk/bitrix"
)

// Element is a list element as lists.element.get returns it: typed system
// fields, the PROPERTY_<id> values, and every other field in Extra.
type Element struct {
	ID        int
	IBlockID  int
	Name      string
	Code      string
	SectionID int // IBLOCK_SECTION_ID
	CreatedBy int
	Sort      int
	// DateCreate is DATE_CREATE parsed with the client's DateFormat (zero
	// when absent or unparsable; the text stays in DateCreateText).
	DateCreate     time.Time
	DateCreateText string
	// Properties holds the PROPERTY_<id> fields by property id.
	Properties map[int]Property
	// Extra keeps the other fields (BP_PUBLISHED, PREVIEW_TEXT, ...).
	Extra map[string]json.RawMessage
}

// Property returns the values of PROPERTY_<id> (empty when absent).
func (e *Element) Property(id int) Property {
	if p, ok := e.Properties[id]; ok {
		return p
	}
	return Property{}
}

// PropertyIDs returns the ids of the properties present, ascending.
func (e *Element) PropertyIDs() []int {
	ids := make([]int, 0, len(e.Properties))
	for id := range e.Properties {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// propertyID returns n for "PROPERTY_n".
func propertyID(key string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(key), "PROPERTY_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// decodeElement reads one element row.
func decodeElement(raw json.RawMessage, dates *DateFormat) (Element, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Element{}, fmt.Errorf("lists: element is not an object: %w", err)
	}
	e := Element{}
	intField := func(k string, dst *int) error {
		v, ok := m[k]
		if !ok {
			return nil
		}
		delete(m, k)
		var n bitrix.Int
		if err := n.UnmarshalJSON(v); err != nil {
			return fmt.Errorf("lists: element field %s: %w", k, err)
		}
		*dst = int(n)
		return nil
	}
	strField := func(k string, dst *string) {
		v, ok := m[k]
		if !ok {
			return
		}
		delete(m, k)
		var s string
		if json.Unmarshal(v, &s) == nil {
			*dst = s
		} else if string(v) != "null" {
			*dst = strings.Trim(string(v), `"`)
		}
	}
	for k, dst := range map[string]*int{"ID": &e.ID, "IBLOCK_ID": &e.IBlockID, "IBLOCK_SECTION_ID": &e.SectionID, "CREATED_BY": &e.CreatedBy, "SORT": &e.Sort} {
		if err := intField(k, dst); err != nil {
			return Element{}, err
		}
	}
	strField("NAME", &e.Name)
	strField("CODE", &e.Code)
	strField("DATE_CREATE", &e.DateCreateText)
	if e.DateCreateText != "" {
		if t, err := dates.Parse(e.DateCreateText); err == nil {
			e.DateCreate = t
		}
	}
	for k, v := range m {
		id, ok := propertyID(k)
		if !ok {
			continue
		}
		p, err := decodeProperty(v, dates)
		if err != nil {
			return Element{}, fmt.Errorf("lists: element field %s: %w", k, err)
		}
		if e.Properties == nil {
			e.Properties = map[int]Property{}
		}
		e.Properties[id] = p
		delete(m, k)
	}
	if len(m) > 0 {
		e.Extra = m
	}
	return e, nil
}

// Fields are the FIELDS of lists.element.add and lists.element.update.
type Fields struct {
	// Name is NAME, required by the portal on add and on update.
	Name string
	// Properties are the PROPERTY_<id> values by property id.
	Properties map[int]FieldValue
	// Extra holds other FIELDS keys written as given (for example
	// "PREVIEW_TEXT", "SORT", or "PROPERTY_12_DEL" with a value id to
	// delete one file).
	Extra map[string]any
}

// Set sets the value of PROPERTY_<id> and returns f.
func (f *Fields) Set(id int, v FieldValue) *Fields {
	if f.Properties == nil {
		f.Properties = map[int]FieldValue{}
	}
	f.Properties[id] = v
	return f
}

func (f *Fields) wire(method string, dates DateFormat) (bitrix.Params, error) {
	if strings.TrimSpace(f.Name) == "" {
		return nil, invalid(method, "FIELDS.NAME", "required")
	}
	out := bitrix.Params{"NAME": f.Name}
	for id, v := range f.Properties {
		key := "PROPERTY_" + strconv.Itoa(id)
		if id <= 0 {
			return nil, invalid(method, "FIELDS."+key, "property id must be positive")
		}
		w, err := v.wire("FIELDS."+key, dates, method)
		if err != nil {
			return nil, err
		}
		out[key] = w
	}
	for k, v := range f.Extra {
		if strings.EqualFold(k, "NAME") {
			return nil, invalid(method, "FIELDS.NAME", "set Fields.Name, not Extra[%q]", k)
		}
		if id, ok := propertyID(k); ok {
			if _, dup := f.Properties[id]; dup {
				return nil, invalid(method, "FIELDS."+k, "set both in Properties and Extra")
			}
		}
		out[k] = v
	}
	return out, nil
}

// NewElement is the request of [Elements.Add].
type NewElement struct {
	// Code is ELEMENT_CODE, required and unique within the list. It is
	// also what lets the SDK find out, after a lost answer, whether the
	// element was created.
	Code   string
	Fields Fields
	// SectionID is IBLOCK_SECTION_ID (0: the list's root).
	SectionID int
	// ListElementURL is LIST_ELEMENT_URL, a template with #list_id#,
	// #section_id#, #element_id# and #group_id# used in notifications.
	ListElementURL string
}

// DecodeElement decodes one row of lists.element.get with the given date
// format (for rows obtained outside this package, e.g. from a batch).
func DecodeElement(raw json.RawMessage, dates DateFormat) (Element, error) {
	return decodeElement(raw, &dates)
}
