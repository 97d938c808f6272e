package bitrixtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/b24go/sdk/internal/wire"

	"github.com/b24go/sdk/internal/phpform"
)

// CRM entity type ids.
const (
	EntityLead         = 1
	EntityDeal         = 2
	EntityContact      = 3
	EntityCompany      = 4
	EntityQuote        = 7
	EntitySmartInvoice = 31
)

type fieldDef struct {
	name     string // camelCase
	upper    string // classic UPPER_CASE
	typ      string
	title    string
	ro       bool
	multiple bool
	required bool
}

type crmType struct {
	id        int
	code      string // LEAD, DEAL, ... DYNAMIC_128
	abbr      string // L, D, ... T80
	title     string
	event     string // event name stem, e.g. ONCRMDEAL
	dynamic   bool
	fields    []*fieldDef
	byName    map[string]*fieldDef // camel name
	byLower   map[string]*fieldDef // lower(camel) and lower(upper)
	items     map[int]map[string]any
	ids       []int             // ascending
	ufs       map[string]string // camel -> original UF name
	ufOrder   []string
	defaults  map[string]any
	classicID bool // classic crm.<type>.* methods exist
	nextID    int  // each entity type has its own id sequence (its own table)
	// classicKeys, when set, are the only field names (upper) the classic
	// crm.<type>.get/list/fields answer: the keys the docs list for the type.
	classicKeys map[string]bool
}

// dealClassicKeys are the fields of api-reference/crm/deals/crm-deal-fields.md
// (the sample, user fields and PARENT_ID_* aside): crm.deal.get and
// crm.deal.fields answer these and not the crm.item-only ones
// (BEGINDATE_SHORT, IS_WON, SEARCH_CONTENT, ...).
const dealClassicKeys = "ID TITLE TYPE_ID CATEGORY_ID STAGE_ID STAGE_SEMANTIC_ID IS_NEW IS_RECURRING IS_RETURN_CUSTOMER IS_REPEATED_APPROACH PROBABILITY CURRENCY_ID OPPORTUNITY IS_MANUAL_OPPORTUNITY TAX_VALUE COMPANY_ID CONTACT_ID CONTACT_IDS QUOTE_ID BEGINDATE CLOSEDATE OPENED CLOSED COMMENTS ASSIGNED_BY_ID CREATED_BY_ID MODIFY_BY_ID MOVED_BY_ID DATE_CREATE DATE_MODIFY MOVED_TIME SOURCE_ID SOURCE_DESCRIPTION LEAD_ID ADDITIONAL_INFO LOCATION_ID ORIGINATOR_ID ORIGIN_ID UTM_SOURCE UTM_MEDIUM UTM_CAMPAIGN UTM_CONTENT UTM_TERM LAST_ACTIVITY_TIME LAST_ACTIVITY_BY"

type crmStore struct {
	types   map[int]*crmType
	byAbbr  map[string]*crmType
	rows    map[int]*productRow
	nextRow int
	fmID    int
}

// Field tables: name:type[:flags] with flags r (read-only), m (multiple),
// q (required). Upper names follow the classic methods. xmlId belongs to
// smart invoices and smart processes only: api-reference/crm/universal/
// object-fields.md lists it for those two and for no other type, and the
// crm.item.add/get samples of a deal and a lead (crm-item-add.md,
// crm-item-get.md) have none.
const (
	commonHead   = "id:integer:r title:string"
	commonTail   = " createdTime:datetime:r updatedTime:datetime:r createdBy:user:r updatedBy:user:r assignedById:user opened:boolean"
	commonFields = commonHead + commonTail
)

const utmFields = " utmSource:string utmMedium:string utmCampaign:string utmContent:string utmTerm:string"

var typeFields = map[int]string{
	EntityLead:    commonFields + " dateCreateShort:datetime:r dateModifyShort:datetime:r dateClosed:datetime:r isConvert:boolean:r shortName:string:r productId:integer:r searchContent:string:r login:string:r hasImol:boolean:r phone:string:r phoneMobile:string:r phoneWork:string:r phoneMailing:string:r email:string:r emailHome:string:r emailWork:string:r emailMailing:string:r skype:string:r icq:string:r imol:string:r companyId:crm_company contactId:crm_contact contactIds:crm_contact:m stageId:crm_status statusDescription:text stageSemanticId:string:r opportunity:double currencyId:crm_currency isManualOpportunity:boolean sourceId:crm_status sourceDescription:text name:string lastName:string secondName:string companyTitle:string post:string address:string comments:text birthdate:date honorific:crm_status hasPhone:boolean:r hasEmail:boolean:r isReturnCustomer:boolean:r observers:user:m fm:crm_multifield:m webformId:integer originatorId:string originId:string movedBy:user:r movedTime:datetime:r lastActivityBy:user:r lastActivityTime:datetime:r" + utmFields,
	EntityDeal:    commonFields + " dateCreateShort:datetime:r dateModifyShort:datetime:r begindateShort:date:r closedateShort:date:r eventDate:datetime eventDateShort:date:r eventDescription:text eventId:crm_status locationId:location productId:integer:r searchContent:string:r orderStage:string:r isWork:boolean:r isWon:boolean:r isLose:boolean:r receivedAmount:double:r lostAmount:double:r hasProducts:boolean:r leadId:crm_lead companyId:crm_company contactId:crm_contact contactIds:crm_contact:m quoteId:crm_quote categoryId:crm_category stageId:crm_status stageSemanticId:string:r isNew:boolean:r isRecurring:boolean isReturnCustomer:boolean:r isRepeatedApproach:boolean:r closed:boolean typeId:crm_status opportunity:double isManualOpportunity:boolean taxValue:double currencyId:crm_currency probability:integer comments:text begindate:date closedate:date sourceId:crm_status sourceDescription:text additionalInfo:text observers:user:m webformId:integer originatorId:string originId:string movedBy:user:r movedTime:datetime:r lastActivityBy:user:r lastActivityTime:datetime:r" + utmFields,
	EntityContact: commonFields + " name:string lastName:string secondName:string honorific:crm_status post:string birthdate:date typeId:crm_status sourceId:crm_status sourceDescription:text companyId:crm_company companyIds:crm_company:m comments:text hasPhone:boolean:r hasEmail:boolean:r fm:crm_multifield:m observers:user:m export:boolean webformId:integer originatorId:string originId:string lastActivityBy:user:r lastActivityTime:datetime:r" + utmFields,
	EntityCompany: commonFields + " companyType:crm_status industry:crm_status employees:crm_status revenue:double currencyId:crm_currency comments:text hasPhone:boolean:r hasEmail:boolean:r isMyCompany:boolean fm:crm_multifield:m contactIds:crm_contact:m observers:user:m webformId:integer originatorId:string originId:string lastActivityBy:user:r lastActivityTime:datetime:r" + utmFields,
	EntityQuote:   commonFields + " stageId:crm_status opportunity:double isManualOpportunity:boolean taxValue:double currencyId:crm_currency dealId:crm_deal leadId:crm_lead companyId:crm_company contactId:crm_contact contactIds:crm_contact:m mycompanyId:crm_company begindate:date closedate:date comments:text content:text terms:text number:string locationId:location lastActivityBy:user:r lastActivityTime:datetime:r",
	0:             commonHead + " xmlId:string" + commonTail + " webformId:integer begindate:date closedate:date companyId:crm_company contactId:crm_contact contactIds:crm_contact:m observers:user:m categoryId:crm_category movedTime:datetime:r movedBy:user:r stageId:crm_status previousStageId:crm_status:r sourceId:crm_status sourceDescription:text currencyId:crm_currency isManualOpportunity:boolean opportunity:double taxValue:double mycompanyId:crm_company lastActivityBy:user:r lastActivityTime:datetime:r",
}

// upperOverrides are classic names that do not follow camel → UPPER_SNAKE.
var upperOverrides = map[string]string{
	"createdTime": "DATE_CREATE", "updatedTime": "DATE_MODIFY", "createdBy": "CREATED_BY_ID",
	"updatedBy": "MODIFY_BY_ID", "movedBy": "MOVED_BY_ID", "lastActivityBy": "LAST_ACTIVITY_BY",
	"begindate": "BEGINDATE", "closedate": "CLOSEDATE", "observers": "OBSERVER_IDS",
	"contactIds": "CONTACT_IDS", "companyIds": "COMPANY_IDS",
	"webformId": "WEBFORM_ID", "mycompanyId": "MYCOMPANY_ID", "fm": "FM",
}

func camelToUpper(s string) string {
	var b strings.Builder
	prevLower, prevDigit := false, false
	for _, r := range s {
		isUp, isDig := unicode.IsUpper(r), unicode.IsDigit(r)
		if (isUp && (prevLower || prevDigit)) || (isDig && prevLower) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
		prevLower, prevDigit = unicode.IsLower(r), isDig
	}
	return b.String()
}

func newCRMStore() *crmStore {
	st := &crmStore{types: map[int]*crmType{}, byAbbr: map[string]*crmType{}, rows: map[int]*productRow{}}
	st.addType(EntityLead, "LEAD", "L", "Lead", "ONCRMLEAD", false)
	st.addType(EntityDeal, "DEAL", "D", "Deal", "ONCRMDEAL", false)
	st.addType(EntityContact, "CONTACT", "C", "Contact", "ONCRMCONTACT", false)
	st.addType(EntityCompany, "COMPANY", "CO", "Company", "ONCRMCOMPANY", false)
	st.addType(EntityQuote, "QUOTE", "Q", "Estimate", "ONCRMQUOTE", false)
	// Smart invoices raise the dynamic-item events, like smart processes
	// (api-reference/crm/universal/invoice.md, Events tab).
	st.addType(EntitySmartInvoice, "SMART_INVOICE", "SI", "Invoice", dynamicItemStem, false)
	st.addType(128, "DYNAMIC_128", "T80", "Smart process", dynamicItemStem, true)
	return st
}

func (st *crmStore) addType(id int, code, abbr, title, event string, dynamic bool) *crmType {
	spec, ok := typeFields[id]
	if !ok {
		spec = typeFields[0]
	}
	t := &crmType{id: id, code: code, abbr: abbr, title: title, event: event, dynamic: dynamic,
		byName: map[string]*fieldDef{}, byLower: map[string]*fieldDef{}, items: map[int]map[string]any{}, ufs: map[string]string{},
		classicID: id <= 4 || id == 7}
	for _, f := range strings.Fields(spec) {
		parts := strings.Split(f, ":")
		d := &fieldDef{name: parts[0], typ: parts[1], title: parts[0]}
		if len(parts) > 2 {
			d.ro = strings.Contains(parts[2], "r")
			d.multiple = strings.Contains(parts[2], "m")
			d.required = strings.Contains(parts[2], "q")
		}
		d.upper = camelToUpper(d.name)
		// The classic names (DATE_CREATE, CREATED_BY_ID, ...)
		// belong to the types with classic methods; smart processes and
		// smart invoices use the plain upper case of the camel name
		// (api-reference/crm/universal/crm-item-fields.md sample, entity
		// type 1268: CREATED_TIME, UPDATED_TIME, CREATED_BY, XML_ID, ...).
		if o, ok := upperOverrides[d.name]; ok && t.classicID {
			d.upper = o
		}
		if id == EntityLead && d.name == "stageId" {
			d.upper = "STATUS_ID"
		}
		t.fields = append(t.fields, d)
		t.byName[d.name] = d
		t.byLower[strings.ToLower(d.name)] = d
		t.byLower[strings.ToLower(d.upper)] = d
	}
	// Defaults of a new item: the "Default" lines of the parameter tables
	// of api-reference/crm/universal/crm-item-add.md (one tab per type);
	// opportunity and taxValue default to null there ("Default — null")
	// except for deals (crm-deal-add.md, below). title, begindate,
	// closedate and mycompanyId are derived in addItem.
	t.defaults = map[string]any{"opened": "Y", "isManualOpportunity": "N", "currencyId": "USD", "stageSemanticId": "P"}
	if _, ok := t.byName["sourceId"]; ok {
		// "the first available source": the first of the default
		// sources (api-reference/crm/leads/crm-lead-add.md SOURCE_ID table).
		t.defaults["sourceId"] = "CALL"
	}
	switch id {
	case EntityLead:
		t.defaults["stageId"] = "NEW"
		// The crm.item.get lead sample (crm-item-get.md): companyId and
		// contactId 0, isReturnCustomer and hasImol "N"; the phone and
		// e-mail columns are set in applyFields.
		t.defaults["companyId"] = int64(0)
		t.defaults["contactId"] = int64(0)
		t.defaults["isReturnCustomer"] = "N"
		t.defaults["hasImol"] = "N"
	case EntityContact:
		t.defaults["export"] = "Y" // crm-item-add.md, Contact tab
	case EntityCompany:
		// crm-item-add.md, Company tab.
		t.defaults["revenue"] = float64(0)
		t.defaults["isMyCompany"] = "N"
	case EntityDeal:
		t.defaults["stageId"] = "NEW"
		t.defaults["categoryId"] = int64(0)
		t.defaults["closed"] = "N"
		t.defaults["typeId"] = "SALE"
		t.defaults["isNew"] = "Y"
		// api-reference/crm/deals/crm-deal-add.md "By default" values;
		// begindate and closedate are set in addItem.
		t.defaults["isRecurring"] = "N"
		t.defaults["isReturnCustomer"] = "N"
		t.defaults["isRepeatedApproach"] = "N"
		t.defaults["opportunity"] = float64(0)
		t.defaults["isManualOpportunity"] = "N"
		t.defaults["taxValue"] = float64(0)
		t.defaults["opened"] = "Y"
		t.defaults["companyId"] = int64(0)
		t.defaults["contactId"] = int64(0)
		t.classicKeys = map[string]bool{}
		for _, k := range strings.Fields(dealClassicKeys) {
			t.classicKeys[k] = true
		}
	case EntityQuote:
		t.defaults["stageId"] = "DRAFT"
	case EntitySmartInvoice:
		t.defaults["stageId"] = "DT31_1:N"
		t.defaults["categoryId"] = int64(1)
	default:
		if dynamic {
			t.defaults["stageId"] = fmt.Sprintf("DT%d_0:NEW", id)
			t.defaults["categoryId"] = int64(0)
		}
	}
	st.types[id] = t
	st.byAbbr[strings.ToUpper(abbr)] = t
	return t
}

// AddSmartProcess registers a smart process (SPA) type. Valid ids are 128-191
// and even ids from 1030; type 128 exists from the start. Its owner type
// abbreviation for product rows is "T" + lower-case hex id (128 → "T80").
func (s *Server) AddSmartProcess(entityTypeID int, title string) error {
	if !(entityTypeID >= 128 && entityTypeID < 192 || entityTypeID >= 1030 && entityTypeID%2 == 0) {
		return fmt.Errorf("bitrixtest: smart process id %d is not in 128-191 or an even number from 1030", entityTypeID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.crm.types[entityTypeID]; ok {
		return nil
	}
	s.crm.addType(entityTypeID, fmt.Sprintf("DYNAMIC_%d", entityTypeID), "T"+strconv.FormatInt(int64(entityTypeID), 16), title, dynamicItemStem, true)
	return nil
}

func isUF(name string) bool {
	return strings.HasPrefix(name, "ufCrm") || strings.HasPrefix(strings.ToUpper(name), "UF_CRM_")
}

// ufName returns the stored (camel) name of a user field and remembers its
// original spelling.
func (t *crmType) ufName(name string) string {
	if strings.HasPrefix(strings.ToUpper(name), "UF_CRM_") {
		orig := strings.ToUpper(name)
		camel := wire.UFCamelName(orig)
		if _, ok := t.ufs[camel]; !ok {
			t.ufs[camel] = orig
			t.ufOrder = append(t.ufOrder, camel)
		}
		return camel
	}
	if _, ok := t.ufs[name]; !ok {
		orig := "UF_CRM_" + strings.TrimPrefix(strings.TrimPrefix(name, "ufCrm"), "_")
		if !strings.HasPrefix(name, "ufCrm_") {
			orig = camelToUpper(name)
		}
		t.ufs[name] = orig
		t.ufOrder = append(t.ufOrder, name)
	}
	return name
}

// resolve maps a field name in any supported spelling to the stored name.
func (t *crmType) resolve(name string) (string, bool) {
	if d, ok := t.byName[name]; ok {
		return d.name, true
	}
	if d, ok := t.byLower[strings.ToLower(name)]; ok {
		return d.name, true
	}
	if isUF(name) {
		if strings.HasPrefix(strings.ToUpper(name), "UF_CRM_") {
			return wire.UFCamelName(strings.ToUpper(name)), true
		}
		return name, true
	}
	return "", false
}

func (s *Server) fmtTime(t time.Time) string { return t.In(s.cfg.loc).Format(time.RFC3339) }

// coerce converts an incoming value to the stored type of the field.
func (s *Server) coerce(d *fieldDef, v any) any {
	if d == nil { // user field: keep numbers as numbers
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n
			}
			f, _ := x.Float64()
			return f
		case *phpform.Map:
			return plainValue(x)
		}
		return v
	}
	if d.multiple {
		if d.typ == "crm_multifield" {
			return v // handled by the caller
		}
		vals := listValues(v)
		out := make([]any, 0, len(vals))
		for _, e := range vals {
			out = append(out, s.coerce(&fieldDef{typ: d.typ}, e))
		}
		return out
	}
	if m, ok := v.(*phpform.Map); ok {
		return plainValue(m)
	}
	if v == nil {
		return nil
	}
	switch d.typ {
	case "integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_deal", "crm_quote", "crm_category", "location":
		if sv, _ := phpform.LeafString(v); sv == "" {
			return nil
		}
		return int64(toInt(v))
	case "double":
		f, _ := toFloat(v)
		return f
	case "boolean":
		sv, _ := phpform.LeafString(v)
		switch strings.ToUpper(sv) {
		case "Y", "1", "TRUE":
			return "Y"
		}
		return "N"
	case "datetime", "date":
		sv, _ := phpform.LeafString(v)
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "02.01.2006 15:04:05", "02.01.2006"} {
			if t, err := time.ParseInLocation(layout, sv, s.cfg.loc); err == nil {
				return s.fmtTime(t)
			}
		}
		return sv
	}
	sv, _ := phpform.LeafString(v)
	return sv
}

// plainValue converts a request tree to stored JSON-like values.
func plainValue(v any) any {
	switch x := v.(type) {
	case *phpform.Map:
		if x.Len() > 0 && x.IsList() {
			out := make([]any, 0, x.Len())
			for _, e := range x.Values() {
				out = append(out, plainValue(e))
			}
			return out
		}
		out := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			out[k] = plainValue(e)
		}
		return out
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// applyFields writes fields (already keyed by stored names) into item.
func (s *Server) applyFields(t *crmType, item map[string]any, fields *phpform.Map, classic bool) {
	for _, k := range fields.Keys() {
		v, _ := fields.Get(k)
		name, d, known := t.fieldFor(k, classic)
		if !known {
			continue // unknown and read-only fields are ignored
		}
		if d != nil && d.typ == "crm_multifield" {
			item[name] = s.applyFM(item[name], v)
			continue
		}
		if classic && (k == "FM" || k == "PHONE" || k == "EMAIL" || k == "WEB" || k == "IM") {
			continue
		}
		item[name] = s.coerce(d, v)
	}
	if classic {
		s.applyClassicFM(t, item, fields)
	}
	if fm, ok := item["fm"].([]any); ok {
		t.deriveFMColumns(item, fm)
	}
}

// fieldFor resolves a sent field name to the item's key and its definition
// (nil for a user field); known is false for unknown and read-only fields.
func (t *crmType) fieldFor(k string, classic bool) (name string, d *fieldDef, known bool) {
	if isUF(k) {
		return t.ufName(k), nil, true
	}
	var ok bool
	if classic {
		d = t.byLower[strings.ToLower(k)]
		ok = d != nil
	} else {
		d, ok = t.byName[k]
		if !ok {
			d, ok = t.byLower[strings.ToLower(k)]
		}
	}
	if !ok || d.ro {
		return "", nil, false
	}
	return d.name, d, true
}

// applyClassicFM puts classic PHONE/EMAIL/WEB/IM multi-fields into fm.
func (s *Server) applyClassicFM(t *crmType, item map[string]any, fields *phpform.Map) {
	if _, has := t.byName["fm"]; !has {
		return
	}
	for _, typ := range []string{"PHONE", "EMAIL", "WEB", "IM"} {
		v := ciGet(fields, typ)
		if v == nil {
			continue
		}
		var add []any
		for _, e := range listValues(v) {
			if m, ok := e.(*phpform.Map); ok {
				add = append(add, map[string]any{"typeId": typ, "valueType": ciString(m, "VALUE_TYPE"), "value": ciString(m, "VALUE")})
			}
		}
		item["fm"] = s.applyFM(item["fm"], add)
	}
}

// deriveFMColumns sets the columns the type derives from fm (hasPhone,
// hasEmail, hasImol, phone, email, phoneWork, ...).
func (t *crmType) deriveFMColumns(item map[string]any, fm []any) {
	hasP, hasE := "N", "N"
	for _, e := range fm {
		m := e.(map[string]any)
		switch m["typeId"] {
		case "PHONE":
			hasP = "Y"
		case "EMAIL":
			hasE = "Y"
		}
	}
	if _, ok := t.byName["hasPhone"]; ok {
		item["hasPhone"], item["hasEmail"] = hasP, hasE
	}
	if _, ok := t.byName["hasImol"]; ok {
		item["hasImol"] = "N"
		if firstFM(fm, "IM", "IMOL") != "" {
			item["hasImol"] = "Y"
		}
	}
	if _, ok := t.byName["phone"]; !ok {
		return
	}
	// The lead sample of crm-item-get.md: phone/email are the first
	// value of their type, phoneWork, emailHome, imol ... the first
	// of that value type (IMOL: an IM value type, data-types.md
	// crm_multifield), "" when there is none.
	item["phone"], item["email"] = firstFM(fm, "PHONE", ""), firstFM(fm, "EMAIL", "")
	for _, c := range [...]struct{ field, typ, vt string }{
		{"phoneMobile", "PHONE", "MOBILE"}, {"phoneWork", "PHONE", "WORK"}, {"phoneMailing", "PHONE", "MAILING"},
		{"emailHome", "EMAIL", "HOME"}, {"emailWork", "EMAIL", "WORK"}, {"emailMailing", "EMAIL", "MAILING"},
		{"imol", "IM", "IMOL"},
	} {
		if _, ok := t.byName[c.field]; ok {
			item[c.field] = firstFM(fm, c.typ, c.vt)
		}
	}
}

// firstFM returns the first multi-field value of a type (and value type,
// unless vt is empty), or "".
func firstFM(fm []any, typ, vt string) string {
	for _, e := range fm {
		m := e.(map[string]any)
		if m["typeId"] == typ && (vt == "" || m["valueType"] == vt) {
			s, _ := m["value"].(string)
			return s
		}
	}
	return ""
}

// applyFM merges multi-field values (phones, e-mails): list entries or nX
// keys add, numeric keys update (an empty value deletes).
func (s *Server) applyFM(cur any, v any) any {
	list, _ := cur.([]any)
	out := append([]any(nil), list...)
	add := func(e any) {
		var typ, vt, val string
		switch m := e.(type) {
		case *phpform.Map:
			typ, vt, val = ciString(m, "typeId"), ciString(m, "valueType"), ciString(m, "value")
		case map[string]any:
			typ, vt, val = leafStr(m["typeId"]), leafStr(m["valueType"]), leafStr(m["value"])
		default:
			return
		}
		if val == "" {
			return
		}
		s.crm.fmID++
		out = append(out, map[string]any{"id": int64(s.crm.fmID), "valueType": vt, "value": val, "typeId": typ})
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			add(e)
		}
	case *phpform.Map:
		if x.IsList() {
			for _, e := range x.Values() {
				add(e)
			}
			break
		}
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			id, err := strconv.Atoi(k)
			if err != nil {
				add(e)
				continue
			}
			m, _ := e.(*phpform.Map)
			for i, old := range out {
				om := old.(map[string]any)
				if om["id"] == int64(id) {
					if ciString(m, "value") == "" {
						out = append(out[:i], out[i+1:]...)
					} else {
						om["value"] = ciString(m, "value")
						if vt := ciString(m, "valueType"); vt != "" {
							om["valueType"] = vt
						}
					}
					break
				}
			}
		}
	}
	if out == nil {
		out = []any{}
	}
	return out
}

func (t *crmType) insertID(id int) {
	i := sort.SearchInts(t.ids, id)
	t.ids = append(t.ids, 0)
	copy(t.ids[i+1:], t.ids[i:])
	t.ids[i] = id
}

func (t *crmType) removeID(id int) {
	i := sort.SearchInts(t.ids, id)
	if i < len(t.ids) && t.ids[i] == id {
		t.ids = append(t.ids[:i], t.ids[i+1:]...)
	}
}

// firstMyCompany returns the id of the first company with isMyCompany "Y",
// or nil when there is none.
func (st *crmStore) firstMyCompany() any {
	c := st.types[EntityCompany]
	for _, id := range c.ids {
		if c.items[id]["isMyCompany"] == "Y" {
			return int64(id)
		}
	}
	return nil
}

// addItem creates an item (runs under s.mu).
func (s *Server) addItem(t *crmType, fields *phpform.Map, userID int, classic bool) map[string]any {
	now := s.fmtTime(s.now())
	t.nextID++
	id := t.nextID
	item := map[string]any{}
	for _, d := range t.fields {
		if d.multiple {
			item[d.name] = []any{}
		} else if v, ok := t.defaults[d.name]; ok {
			item[d.name] = v
		} else {
			item[d.name] = nil
		}
	}
	item["id"] = int64(id)
	item["createdTime"], item["updatedTime"] = now, now
	item["createdBy"], item["updatedBy"], item["assignedById"] = int64(userID), int64(userID), int64(userID)
	if _, ok := t.byName["movedBy"]; ok {
		item["movedBy"], item["movedTime"] = int64(userID), now
	}
	if _, ok := t.byName["lastActivityBy"]; ok {
		item["lastActivityBy"], item["lastActivityTime"] = int64(userID), now
	}
	if _, ok := t.byName["hasPhone"]; ok {
		item["hasPhone"], item["hasEmail"] = "N", "N"
	}
	if _, ok := t.byName["begindate"]; ok {
		// crm-deal-add.md and the Deal, Estimate, Invoice and SPA tabs of
		// crm-item-add.md: begindate defaults to the creation date,
		// closedate to the creation date plus 7 days.
		// Date fields are midnight UTC of the day, shown in the portal's
		// zone (the samples' "2024-08-30T02:00:00+02:00").
		day := s.now().In(s.cfg.loc)
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		item["begindate"] = s.fmtTime(day)
		item["closedate"] = s.fmtTime(day.AddDate(0, 0, 7))
	}
	s.applyFields(t, item, fields, classic)
	if item["title"] == nil && t.id != EntityContact {
		// crm-item-add.md (every tab with a title; contacts have none):
		// "generated according to the template {entityTypeName} #{id}",
		// e.g. 'Lead #13', 'Invoice #13', 'HR #13' for a smart process
		// "HR"; crm-deal-add.md: "Deal #{id}".
		item["title"] = fmt.Sprintf("%s #%d", t.title, id)
	}
	if _, ok := t.byName["mycompanyId"]; ok && item["mycompanyId"] == nil {
		// crm-item-add.md (Estimate, Invoice, SPA): "identifier of the
		// first available 'my' company"; without one it stays null.
		item["mycompanyId"] = s.crm.firstMyCompany()
	}
	t.items[id] = item
	t.insertID(id)
	return item
}

func (s *Server) updateItem(t *crmType, item map[string]any, fields *phpform.Map, userID int, classic bool) {
	s.applyFields(t, item, fields, classic)
	item["updatedTime"] = s.fmtTime(s.now())
	item["updatedBy"] = int64(userID)
}

// itemView renders an item for crm.item.*: selected fields (nil = all) in
// field order, UF names in original spelling when origUF.
func (t *crmType) itemView(item map[string]any, sel map[string]bool, origUF bool) *obj {
	n := len(t.fields) + len(t.ufOrder) + 1
	if sel != nil {
		n = len(sel) + 1
	}
	m := newObj(n)
	for _, d := range t.fields {
		if sel == nil || sel[d.name] || d.name == "id" {
			m.set(d.name, item[d.name])
		}
	}
	for _, uf := range t.ufOrder {
		if v, ok := item[uf]; ok && (sel == nil || sel[uf] || sel["uf_*"]) {
			name := uf
			if origUF {
				name = t.ufs[uf]
			}
			m.set(name, v)
		}
	}
	if sel == nil {
		m.set("entityTypeId", t.id)
	}
	return m
}

// classicView renders an item for crm.deal.get and friends: UPPER_CASE
// names, scalars as strings.
func (t *crmType) classicView(item map[string]any, sel map[string]bool) *phpform.Map {
	m := phpform.NewMap()
	for _, d := range t.fields {
		if d.name == "fm" || t.classicKeys != nil && !t.classicKeys[d.upper] {
			continue
		}
		if sel == nil || sel[d.name] || d.name == "id" {
			v := classicValue(item[d.name])
			if f, isFloat := item[d.name].(float64); isFloat && d.typ == "double" {
				// crm-deal-get.md sample: "OPPORTUNITY": "1000000.00", "TAX_VALUE": "0.00".
				v = strconv.FormatFloat(f, 'f', 2, 64)
			}
			m.Set(d.upper, v)
		}
	}
	for _, uf := range t.ufOrder {
		if v, ok := item[uf]; ok && (sel != nil && (sel[uf] || sel["uf_*"])) {
			m.Set(t.ufs[uf], classicValue(v))
		}
	}
	if sel != nil && (sel["PHONE"] || sel["EMAIL"]) {
		for _, typ := range []string{"PHONE", "EMAIL"} {
			if !sel[typ] {
				continue
			}
			var list []any
			fm, _ := item["fm"].([]any)
			for _, e := range fm {
				em := e.(map[string]any)
				if em["typeId"] == typ {
					list = append(list, map[string]any{"ID": leafStr(em["id"]), "VALUE_TYPE": em["valueType"], "VALUE": em["value"], "TYPE_ID": typ})
				}
			}
			if list != nil {
				m.Set(typ, list)
			}
		}
	}
	return m
}

func classicValue(v any) any {
	switch x := v.(type) {
	case int64, float64:
		return leafStr(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = classicValue(e)
		}
		return out
	}
	return v
}

// ---- crm.item.* ----

func (s *Server) crmType(params *phpform.Map) (*crmType, *APIError) {
	v := ciGet(params, "entityTypeId")
	if v == nil {
		return nil, errf(400, "INVALID_ARG_VALUE", "entityTypeId is required")
	}
	id := toInt(v)
	if id == 5 {
		return nil, errf(400, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type %d is not supported", id)
	}
	t := s.crm.types[id]
	if t == nil {
		return nil, errf(400, "NOT_FOUND", "SPA not found")
	}
	return t, nil
}

func origUF(params *phpform.Map) bool {
	return strings.EqualFold(ciString(params, "useOriginalUfNames"), "Y")
}

func (c *Request) itemFields(t *crmType) *phpform.Map {
	f := ciMap(c.params, "fields")
	if f == nil {
		f = phpform.NewMap()
	}
	return f
}

// fireCRM raises the event of a change to item id of type t. Items of
// smart processes and smart invoices raise the generic dynamic-item event
// and the type's own one (ONCRMDYNAMICITEMADD and ONCRMDYNAMICITEMADD_31),
// both with data[FIELDS][ENTITY_TYPE_ID]
// (api-reference/crm/universal/events/index.md); the docs show no sample of
// a per-type delivery, so it carries the generic one's data.
func (s *Server) fireCRM(c *Request, t *crmType, suffix string, id int) {
	data := phpform.NewMap()
	fields := phpform.NewMap()
	fields.Set("ID", strconv.Itoa(id))
	if t.event == dynamicItemStem {
		fields.Set("ENTITY_TYPE_ID", strconv.Itoa(t.id))
	}
	data.Set("FIELDS", fields)
	key := fmt.Sprintf("%d:%d", t.id, id)
	s.fireEvent(c, t.event+suffix, data, key)
	if t.event == dynamicItemStem {
		s.fireEvent(c, perTypeEvent(t.event+suffix, t.id), data, key)
	}
}

func (s *Server) deleteItem(t *crmType, id int) {
	delete(t.items, id)
	t.removeID(id)
	s.crm.deleteRows(t.abbr, id)
}

// listItems implements crm.item.list and the classic crm.*.list.
// selection reads a list's select: nil means the default fields (all of
// them for classic methods).
func (t *crmType) selection(sm *phpform.Map, classic bool) map[string]bool {
	if sm == nil || sm.Len() == 0 {
		if !classic {
			return nil
		}
		sel := map[string]bool{}
		for _, d := range t.fields {
			sel[d.name] = true
		}
		return sel
	}
	sel := map[string]bool{}
	for _, v := range sm.Values() {
		name, _ := phpform.LeafString(v)
		switch {
		case name == "*":
			for _, d := range t.fields {
				sel[d.name] = true
			}
		case strings.EqualFold(name, "UF_*"):
			sel["uf_*"] = true
		case strings.EqualFold(name, "PHONE") || strings.EqualFold(name, "EMAIL"):
			sel[strings.ToUpper(name)] = true
		default:
			if f, ok := t.resolve(name); ok {
				sel[f] = true
			}
		}
	}
	return sel
}

// matchingIDs returns the ids of the items that match filter, in order.
// cursor reports the fast path of ID-cursor scans (ascending id, start=-1):
// it starts after the >id bound and stops after one page, so the caller's
// offset no longer applies.
func (t *crmType) matchingIDs(filter *filterExpr, order []orderBy, noCount bool) (ids []int, cursor bool) {
	get := func(id int, f string) any { return t.items[id][f] }
	matchID := func(id int) bool { return filter.match(func(f string) any { return get(id, f) }) }
	byIDAsc := len(order) == 0 || len(order) == 1 && order[0].field == "id" && !order[0].desc
	if byIDAsc && noCount {
		from := 0
		for _, cd := range filter.conds {
			if cd.field == "id" && (cd.op == ">" || cd.op == ">=") && !filter.or {
				if _, isMap := cd.val.(*phpform.Map); !isMap {
					from = sort.SearchInts(t.ids, toInt(cd.val))
				}
			}
		}
		for i := from; i < len(t.ids) && len(ids) < pageSize; i++ {
			if matchID(t.ids[i]) {
				ids = append(ids, t.ids[i])
			}
		}
		return ids, true
	}
	for _, id := range t.ids {
		if matchID(id) {
			ids = append(ids, id)
		}
	}
	if !byIDAsc {
		sortRecords(ids, order, get)
	}
	return ids, false
}

func (s *Server) listItems(c *Request, t *crmType, classic bool) ([]any, *int, *int, *APIError) {
	offset, noCount := readStart(c.params)
	filter, e := parseFilter(ciMap(c.params, "filter"), t.resolve)
	if e != nil {
		return nil, nil, nil, e
	}
	order, e := parseOrder(ciMap(c.params, "order"), t.resolve)
	if e != nil {
		return nil, nil, nil, e
	}
	sel := t.selection(ciMap(c.params, "select"), classic)
	ids, cursor := t.matchingIDs(filter, order, noCount)
	if cursor {
		offset = 0
	}
	var from, to int
	var total, next *int
	if classic {
		from, to, total, next = classicPage(len(ids), offset, noCount)
	} else {
		from, to, total, next = page(len(ids), offset, noCount)
	}
	out := make([]any, 0, to-from)
	for _, id := range ids[from:to] {
		if classic {
			out = append(out, t.classicView(t.items[id], sel))
		} else {
			out = append(out, t.itemView(t.items[id], sel, origUF(c.params)))
		}
	}
	return out, total, next, nil
}

// ---- inspection ----

// CRMItem returns a copy of a stored CRM item in crm.item.* shape (camelCase
// keys; numbers as int64/float64), or nil when it does not exist.
func (s *Server) CRMItem(entityTypeID, id int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.crm.types[entityTypeID]
	if t == nil || t.items[id] == nil {
		return nil
	}
	return plainCopy(t.items[id])
}

// CRMItems returns copies of all items of a type, in id order.
func (s *Server) CRMItems(entityTypeID int) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.crm.types[entityTypeID]
	if t == nil {
		return nil
	}
	out := make([]map[string]any, 0, len(t.ids))
	for _, id := range t.ids {
		out = append(out, plainCopy(t.items[id]))
	}
	return out
}

// SeedOption configures [Server.SeedCRMItems].
// An option given a bad value makes SeedCRMItems return an error before
// it seeds anything.
type SeedOption func(*seedConfig) error

type seedConfig struct{ silent bool }

// WithoutEvents seeds silently: the items appear without the events a
// real change raises, as if they had been there before any handler was
// bound.
func WithoutEvents() SeedOption {
	return func(c *seedConfig) error { c.silent = true; return nil }
}

// SeedCRMItems adds n items of a type with the given fields (crm.item.*
// spelling; "title" defaults to "Item #i") and returns the new ids. It is
// much faster than adding them over HTTP. Each item raises the events
// crm.item.add raises, by user 1 (ONCRMDEALADD, or ONCRMDYNAMICITEMADD and
// ONCRMDYNAMICITEMADD_<type> for smart invoices and smart processes):
// bound handlers and outbound webhooks get them before SeedCRMItems
// returns, offline bindings queue them. err reports the first failed
// delivery (the items exist all the same); [WithoutEvents] seeds silently.
func (s *Server) SeedCRMItems(entityTypeID, n int, fields map[string]any, opts ...SeedOption) ([]int, error) {
	var cfg seedConfig
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("bitrixtest: SeedCRMItems: %w", err)
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []delivery
	s.mu.Lock()
	t := s.crm.types[entityTypeID]
	if t == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("bitrixtest: unknown entity type %d", entityTypeID)
	}
	// A portal user's change, as FireEvent makes one.
	c := &Request{s: s, method: "seed", params: phpform.NewMap(), auth: authInfo{kind: AuthNone, userID: 1}, now: s.now(), out: &out}
	ids := make([]int, 0, max(n, 0))
	for i := 0; i < n; i++ {
		f := phpform.NewMap()
		f.Set("title", fmt.Sprintf("Item #%d", i+1))
		for _, k := range keys {
			f.Set(k, toTree(fields[k]))
		}
		item := s.addItem(t, f, c.auth.userID, false)
		id := int(item["id"].(int64))
		ids = append(ids, id)
		if !cfg.silent {
			s.fireCRM(c, t, "ADD", id)
		}
	}
	s.mu.Unlock()
	err := s.deliverAll(out)
	s.ctl.notify() // wake control-API readers waiting for a change
	return ids, err
}

// toTree turns a Go value into the request-tree shape handlers expect.
func toTree(v any) any {
	switch x := v.(type) {
	case nil, string, bool, json.Number, *phpform.Map:
		return x
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	t, _ := phpform.ParseJSON(b)
	return t
}

func plainCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	_ = d.Decode(&out)
	// Keep int64 for integers: json decoding yields float64; restore.
	for k, v := range m {
		switch v.(type) {
		case int64, string, nil:
			out[k] = v
		}
	}
	return out
}
