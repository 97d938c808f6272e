package crm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/b24go/sdk/internal/wire"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/bitrix"
)

// Fields are the fields of a CRM item to write, keyed by their crm.item.*
// names: "title", "stageId", "opportunity", "ufCrm5_1721244707107" (or
// "UF_CRM_5_1721244707107" with [WithOriginalUfNames]). Values are strings,
// numbers, bools, slices, nested maps, [Decimal], [bitrix.Bool] ("Y"/"N"),
// [bitrix.Time] or anything that marshals to JSON. They travel as a PHP form:
// a nil value is dropped (a form has no null), so send "" to clear a field;
// multiple fields take slices.
type Fields map[string]any

// clone returns a shallow copy of f.
func (f Fields) clone() map[string]any {
	out := make(map[string]any, len(f)+2)
	for k, v := range f {
		out[k] = v
	}
	return out
}

// Item is a CRM item as crm.item.* returns it (any entity type). The
// common fields are typed; every other field — user fields (ufCrm*/UF_CRM_*),
// type-specific fields, fields of future portal versions — is kept in Extra
// as raw JSON, readable with [Item.Field] and [Item.DecodeField] and
// writable with [Item.SetField]. Encoding an Item to JSON gives back what
// was decoded, with the changed fields updated: nothing is lost.
//
// Item is for reading; write with a [Fields] map ([Items.Add],
// [Items.Update]), which sends only what you set.
type Item struct {
	ID                  int         // id
	EntityTypeID        int         // entityTypeId
	Title               string      // title
	XMLID               string      // xmlId
	StageID             string      // stageId, e.g. "C9:UC_KN8KFI"
	PreviousStageID     string      // previousStageId
	StageSemanticID     string      // stageSemanticId: "P" in progress, "S" success, "F" failure
	CategoryID          int         // categoryId (pipeline)
	Opportunity         Decimal     // opportunity (amount)
	IsManualOpportunity bitrix.Bool // isManualOpportunity
	TaxValue            Decimal     // taxValue
	CurrencyID          string      // currencyId
	AssignedByID        int         // assignedById
	CreatedBy           int         // createdBy
	UpdatedBy           int         // updatedBy
	CreatedTime         bitrix.Time // createdTime
	UpdatedTime         bitrix.Time // updatedTime
	Opened              bitrix.Bool // opened
	CompanyID           int         // companyId
	ContactID           int         // contactId (deprecated by the portal; see ContactIDs)
	ContactIDs          []int       // contactIds
	MyCompanyID         int         // mycompanyId
	Observers           []int       // observers
	SourceID            string      // sourceId
	SourceDescription   string      // sourceDescription
	Comments            string      // comments (BB code)
	BeginDate           bitrix.Time // begindate
	CloseDate           bitrix.Time // closedate
	OriginatorID        string      // originatorId: the external system that created the item
	OriginID            string      // originId: the item's id in that system

	// Parents are the parent links parentId{entityTypeId}: Parents[2] is
	// the parent deal's id (parentId2), Parents[1220] a smart-process
	// parent. Null and zero links are left out.
	Parents map[int]int

	// Extra holds every other field as raw JSON, under its wire name.
	Extra map[string]json.RawMessage

	orig map[string]json.RawMessage // raw JSON of the typed keys as decoded
}

type itemField struct {
	key string
	dec func(it *Item, raw json.RawMessage) error
	enc func(it *Item) (json.RawMessage, bool) // value, non-zero
}

func intField(key string, p func(*Item) *int) itemField {
	return itemField{key,
		func(it *Item, raw json.RawMessage) error {
			var n bitrix.Int
			if err := n.UnmarshalJSON(raw); err != nil {
				return err
			}
			*p(it) = int(n)
			return nil
		},
		func(it *Item) (json.RawMessage, bool) {
			v := *p(it)
			return json.RawMessage(strconv.Itoa(v)), v != 0
		}}
}

func strField(key string, p func(*Item) *string) itemField {
	return itemField{key,
		func(it *Item, raw json.RawMessage) error {
			s, err := scalarString(raw)
			*p(it) = s
			return err
		},
		func(it *Item) (json.RawMessage, bool) {
			v := *p(it)
			b, _ := json.Marshal(v)
			return b, v != ""
		}}
}

func jsonField[T any](key string, p func(*Item) *T, zero func(T) bool) itemField {
	return itemField{key,
		func(it *Item, raw json.RawMessage) error {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			*p(it) = v
			return nil
		},
		func(it *Item) (json.RawMessage, bool) {
			v := *p(it)
			b, err := json.Marshal(v)
			if err != nil {
				return json.RawMessage("null"), false
			}
			return b, !zero(v)
		}}
}

func intsField(key string, p func(*Item) *[]int) itemField {
	return itemField{key,
		func(it *Item, raw json.RawMessage) error {
			var v []bitrix.Int
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			out := make([]int, len(v))
			for i, n := range v {
				out[i] = int(n)
			}
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				out = nil
			}
			*p(it) = out
			return nil
		},
		func(it *Item) (json.RawMessage, bool) {
			v := *p(it)
			if v == nil {
				return json.RawMessage("[]"), false
			}
			b, _ := json.Marshal(v)
			return b, len(v) > 0
		}}
}

func decZero(d Decimal) bool      { return d.IsZero() }
func boolZero(b bitrix.Bool) bool { return !bool(b) }
func timeZero(t bitrix.Time) bool { return t.IsZero() }
func timeField(key string, p func(*Item) *bitrix.Time) itemField {
	return jsonField(key, p, timeZero)
}

var itemFields = []itemField{
	intField("id", func(it *Item) *int { return &it.ID }),
	intField("entityTypeId", func(it *Item) *int { return &it.EntityTypeID }),
	strField("title", func(it *Item) *string { return &it.Title }),
	strField("xmlId", func(it *Item) *string { return &it.XMLID }),
	strField("stageId", func(it *Item) *string { return &it.StageID }),
	strField("previousStageId", func(it *Item) *string { return &it.PreviousStageID }),
	strField("stageSemanticId", func(it *Item) *string { return &it.StageSemanticID }),
	intField("categoryId", func(it *Item) *int { return &it.CategoryID }),
	jsonField("opportunity", func(it *Item) *Decimal { return &it.Opportunity }, decZero),
	jsonField("isManualOpportunity", func(it *Item) *bitrix.Bool { return &it.IsManualOpportunity }, boolZero),
	jsonField("taxValue", func(it *Item) *Decimal { return &it.TaxValue }, decZero),
	strField("currencyId", func(it *Item) *string { return &it.CurrencyID }),
	intField("assignedById", func(it *Item) *int { return &it.AssignedByID }),
	intField("createdBy", func(it *Item) *int { return &it.CreatedBy }),
	intField("updatedBy", func(it *Item) *int { return &it.UpdatedBy }),
	timeField("createdTime", func(it *Item) *bitrix.Time { return &it.CreatedTime }),
	timeField("updatedTime", func(it *Item) *bitrix.Time { return &it.UpdatedTime }),
	jsonField("opened", func(it *Item) *bitrix.Bool { return &it.Opened }, boolZero),
	intField("companyId", func(it *Item) *int { return &it.CompanyID }),
	intField("contactId", func(it *Item) *int { return &it.ContactID }),
	intsField("contactIds", func(it *Item) *[]int { return &it.ContactIDs }),
	intField("mycompanyId", func(it *Item) *int { return &it.MyCompanyID }),
	intsField("observers", func(it *Item) *[]int { return &it.Observers }),
	strField("sourceId", func(it *Item) *string { return &it.SourceID }),
	strField("sourceDescription", func(it *Item) *string { return &it.SourceDescription }),
	strField("comments", func(it *Item) *string { return &it.Comments }),
	timeField("begindate", func(it *Item) *bitrix.Time { return &it.BeginDate }),
	timeField("closedate", func(it *Item) *bitrix.Time { return &it.CloseDate }),
	strField("originatorId", func(it *Item) *string { return &it.OriginatorID }),
	strField("originId", func(it *Item) *string { return &it.OriginID }),
}

var itemFieldByKey = func() map[string]*itemField {
	m := make(map[string]*itemField, len(itemFields))
	for i := range itemFields {
		m[itemFields[i].key] = &itemFields[i]
	}
	return m
}()

// parentKey parses "parentId<N>" and returns N.
func parentKey(k string) (int, bool) {
	rest, ok := strings.CutPrefix(k, "parentId")
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}

// scalarString reads a JSON string, number or bool as text; null is "".
func scalarString(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) == 0 || string(t) == "null":
		return "", nil
	case t[0] == '"':
		var s string
		err := json.Unmarshal(t, &s)
		return s, err
	case t[0] == '[' || t[0] == '{':
		return "", fmt.Errorf("want a string, got %.20s", t)
	}
	return string(t), nil
}

// UnmarshalJSON decodes an item. A typed field whose value does not fit its
// Go type is kept in Extra instead of failing the whole item.
func (it *Item) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("crm: decoding item: %w", err)
	}
	*it = Item{orig: map[string]json.RawMessage{}}
	for k, raw := range m {
		if f := itemFieldByKey[k]; f != nil {
			if err := f.dec(it, raw); err == nil {
				it.orig[k] = raw
				continue
			}
		} else if n, ok := parentKey(k); ok {
			var v bitrix.Int
			if err := v.UnmarshalJSON(raw); err == nil {
				it.orig[k] = raw
				if v != 0 {
					if it.Parents == nil {
						it.Parents = map[int]int{}
					}
					it.Parents[n] = int(v)
				}
				continue
			}
		}
		if it.Extra == nil {
			it.Extra = map[string]json.RawMessage{}
		}
		it.Extra[k] = raw
	}
	return nil
}

// MarshalJSON encodes the item under its wire names: unchanged fields as
// they were decoded (null stays null), changed and new fields with their
// current values, and every Extra field.
func (it Item) MarshalJSON() ([]byte, error) {
	return json.Marshal(it.wire())
}

func (it *Item) wire() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(it.Extra)+len(itemFields)+len(it.Parents))
	for k, v := range it.Extra {
		out[k] = v
	}
	for i := range itemFields {
		f := &itemFields[i]
		if v, ok := it.typedValue(f); ok {
			out[f.key] = v
		}
	}
	for n, id := range it.Parents {
		k := "parentId" + strconv.Itoa(n)
		if raw, ok := it.orig[k]; ok {
			var o bitrix.Int
			if o.UnmarshalJSON(raw) == nil && int(o) == id {
				out[k] = raw
				continue
			}
		}
		out[k] = json.RawMessage(strconv.Itoa(id))
	}
	for k, raw := range it.orig {
		n, ok := parentKey(k)
		if !ok {
			continue
		}
		if _, has := it.Parents[n]; has {
			continue
		}
		var o bitrix.Int
		if o.UnmarshalJSON(raw) == nil && o == 0 {
			out[k] = raw // null or 0, as decoded
		} else {
			out[k] = json.RawMessage("0") // removed by the caller: unlinked
		}
	}
	return out
}

// typedValue returns the wire value of a typed field and whether to emit it.
func (it *Item) typedValue(f *itemField) (json.RawMessage, bool) {
	cur, nonZero := f.enc(it)
	if raw, ok := it.orig[f.key]; ok {
		var scratch Item
		if f.dec(&scratch, raw) == nil {
			if o, _ := f.enc(&scratch); bytes.Equal(o, cur) {
				return raw, true
			}
		}
		return cur, true
	}
	return cur, nonZero
}

// Field returns the raw JSON of any field by its wire name — typed or in
// Extra — or nil when the item has no such field. A user field can be asked
// for in either spelling: Field("UF_CRM_5_1721244707107") finds
// "ufCrm5_1721244707107" and the other way round.
func (it *Item) Field(name string) json.RawMessage {
	if f := itemFieldByKey[name]; f != nil {
		if v, ok := it.typedValue(f); ok {
			return v
		}
		return it.Extra[name]
	}
	if n, ok := parentKey(name); ok {
		if id, has := it.Parents[n]; has {
			return json.RawMessage(strconv.Itoa(id))
		}
		if raw, has := it.orig[name]; has {
			return raw
		}
	}
	if v, ok := it.Extra[name]; ok {
		return v
	}
	if isOriginalUF(name) {
		if v, ok := it.Extra[UFCamelName(name)]; ok {
			return v
		}
	} else if strings.HasPrefix(name, "ufCrm") {
		for k, v := range it.Extra {
			if isOriginalUF(k) && UFCamelName(k) == name {
				return v
			}
		}
	}
	return nil
}

// DecodeField decodes the field name (see [Item.Field]) into out. A missing
// field leaves out unchanged and returns nil.
func (it *Item) DecodeField(name string, out any) error {
	raw := it.Field(name)
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("crm: item field %q: %w", name, err)
	}
	return nil
}

// SetField sets a field by its wire name to v (anything that marshals to
// JSON): a typed field is decoded from v's JSON (parentId<N> sets Parents),
// any other name is stored in Extra.
func (it *Item) SetField(name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("crm: item field %q: %w", name, err)
	}
	if f := itemFieldByKey[name]; f != nil {
		if err := f.dec(it, raw); err != nil {
			return fmt.Errorf("crm: item field %q: %w", name, err)
		}
		return nil
	}
	if n, ok := parentKey(name); ok {
		var id bitrix.Int
		if err := id.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("crm: item field %q: %w", name, err)
		}
		if it.Parents == nil {
			it.Parents = map[int]int{}
		}
		if id == 0 {
			delete(it.Parents, n)
		} else {
			it.Parents[n] = int(id)
		}
		return nil
	}
	if it.Extra == nil {
		it.Extra = map[string]json.RawMessage{}
	}
	it.Extra[name] = raw
	return nil
}

// FieldNames returns the wire names of all fields the item carries, sorted.
func (it *Item) FieldNames() []string {
	w := it.wire()
	out := make([]string, 0, len(w))
	for k := range w {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isOriginalUF(name string) bool { return strings.HasPrefix(strings.ToUpper(name), "UF_CRM_") }

// UFCamelName converts an original user-field name to the spelling
// crm.item.* uses without [WithOriginalUfNames]: UF_CRM_3_DIGIT → ufCrm3Digit,
// UF_CRM_3_1747309727 → ufCrm3_1747309727; names with a part that mixes
// letters and digits, or with only a number, keep their tail:
// UF_CRM_3_DIGIT10 → ufCrm_3_DIGIT10, UF_CRM_1747309879 → ufCrm_1747309879.
// (The portal keeps the original name when two fields would collide.) Other
// names are returned unchanged.
func UFCamelName(name string) string { return wire.UFCamelName(name) }
