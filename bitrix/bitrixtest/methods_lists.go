package bitrixtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

var listsMethods = []method{
	{"lists.get", "lists", listsGet},
	{"lists.field.get", "lists", listsFieldGet},
	{"lists.element.add", "lists", listsElementAdd},
	{"lists.element.update", "lists", listsElementUpdate},
	{"lists.element.delete", "lists", listsElementDelete},
	{"lists.element.get", "lists", listsElementGet},
	{"lists.element.get.file.url", "lists", listsElementGetFileURL},
}

// listsGet implements lists.get.
func listsGet(c *Request) (Result, error) {
	typ := ciString(c.params, "IBLOCK_TYPE_ID")
	if typ == "" {
		return Result{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `IBLOCK_TYPE_ID` is missing")
	}
	offset, noCount := readStart(c.params)
	id, code := ciInt(c.params, "IBLOCK_ID"), ciString(c.params, "IBLOCK_CODE")
	var ibs []*listIBlock
	for _, ib := range c.s.lists.iblocks {
		if ib.typeID == typ && (id == 0 || ib.id == id) && (code == "" || ib.code == code) {
			ibs = append(ibs, ib)
		}
	}
	sort.Slice(ibs, func(i, j int) bool { return ibs[i].id < ibs[j].id })
	from, to, total, next := classicPage(len(ibs), offset, noCount)
	out := []any{}
	for _, ib := range ibs[from:to] {
		m := phpform.NewMap()
		m.Set("ID", strconv.Itoa(ib.id))
		m.Set("TIMESTAMP_X", c.now.In(c.s.cfg.loc).Format("01/02/2006 03:04:05 pm"))
		m.Set("IBLOCK_TYPE_ID", ib.typeID)
		m.Set("LID", "s1")
		m.Set("CODE", nilIfEmpty(ib.code))
		m.Set("API_CODE", nil)
		m.Set("NAME", ib.name)
		m.Set("ACTIVE", "Y")
		m.Set("SORT", "500")
		m.Set("DESCRIPTION", "")
		m.Set("DESCRIPTION_TYPE", "text")
		m.Set("BIZPROC", "Y")
		m.Set("RIGHTS_MODE", "E")
		m.Set("VERSION", "1")
		if ib.socnet > 0 {
			m.Set("SOCNET_GROUP_ID", strconv.Itoa(ib.socnet))
		} else {
			m.Set("SOCNET_GROUP_ID", nil)
		}
		m.Set("SECTIONS_NAME", "Sections")
		m.Set("SECTION_NAME", "Section")
		m.Set("ELEMENTS_NAME", "Elements")
		m.Set("ELEMENT_NAME", "Element")
		out = append(out, m)
	}
	return Result{Value: out, Total: total, Next: next}, nil
}

// listsFieldGet implements lists.field.get.
func listsFieldGet(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	want := strings.ToUpper(ciString(c.params, "FIELD_ID"))
	res := phpform.NewMap()
	if want == "" || want == "NAME" {
		m := phpform.NewMap()
		m.Set("FIELD_ID", "NAME")
		m.Set("SORT", 10)
		m.Set("NAME", "Name")
		m.Set("IS_REQUIRED", "Y")
		m.Set("MULTIPLE", "N")
		m.Set("DEFAULT_VALUE", "")
		m.Set("TYPE", "NAME")
		res.Set("NAME", m)
	}
	for i, f := range ib.fields {
		key := "PROPERTY_" + strconv.Itoa(f.ID)
		if want != "" && want != key {
			continue
		}
		m := phpform.NewMap()
		m.Set("FIELD_ID", key)
		m.Set("SORT", (i+2)*10)
		m.Set("NAME", f.Name)
		m.Set("IS_REQUIRED", yn(f.Required))
		m.Set("MULTIPLE", yn(f.Multiple))
		m.Set("DEFAULT_VALUE", "")
		m.Set("TYPE", f.Type)
		pt, ut, _ := strings.Cut(f.Type, ":")
		m.Set("PROPERTY_TYPE", pt)
		if ut != "" {
			m.Set("PROPERTY_USER_TYPE", ut)
		} else {
			m.Set("PROPERTY_USER_TYPE", false)
		}
		m.Set("CODE", f.Code)
		m.Set("ID", strconv.Itoa(f.ID))
		m.Set("LINK_IBLOCK_ID", nil)
		m.Set("ROW_COUNT", "1")
		m.Set("COL_COUNT", "30")
		m.Set("USER_TYPE_SETTINGS", nil)
		st := phpform.NewMap()
		for _, kv := range [][2]string{{"SHOW_ADD_FORM", "Y"}, {"SHOW_EDIT_FORM", "Y"}, {"ADD_READ_ONLY_FIELD", "N"}, {"EDIT_READ_ONLY_FIELD", "N"}, {"SHOW_FIELD_PREVIEW", "N"}} {
			st.Set(kv[0], kv[1])
		}
		m.Set("SETTINGS", st)
		if len(f.Enum) > 0 {
			keys := make([]string, 0, len(f.Enum))
			for k := range f.Enum {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			dv := phpform.NewMap()
			for _, k := range keys {
				dv.Set(k, f.Enum[k])
			}
			m.Set("DISPLAY_VALUES_FORM", keyedObject{dv})
		}
		// The portal keys the answer by field type for properties.
		resKey := key
		if want != "" {
			resKey = pt
		}
		res.Set(resKey, m)
	}
	if res.Len() == 0 {
		return Result{}, errf(400, "ERROR_FIELD_NOT_FOUND", "Field not found")
	}
	return ok(res)
}

// listsElementAdd implements lists.element.add.
func listsElementAdd(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	code := ciString(c.params, "ELEMENT_CODE")
	if code == "" {
		return Result{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `ELEMENT_CODE` is missing")
	}
	for _, el := range ib.elements {
		if el.code == code {
			return Result{}, errf(400, "ERROR_ELEMENT_ALREADY_EXISTS", "Element with this code already exists")
		}
	}
	fields := ciMap(c.params, "FIELDS")
	if fields == nil {
		return Result{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELDS` is missing")
	}
	el := &listElement{code: code, createdBy: c.auth.userID, created: c.now.In(c.s.cfg.loc).Format("01/02/2006 03:04:05 pm"), sort: 500, props: map[int][]propValue{}, section: ciInt(c.params, "IBLOCK_SECTION_ID")}
	if e := c.s.writeProps(ib, el, fields, false); e != nil {
		return Result{}, e
	}
	c.s.lists.nextEl++
	el.id = c.s.lists.nextEl
	ib.elements[el.id] = el
	return ok(el.id)
}

// listsElementUpdate implements lists.element.update.
func listsElementUpdate(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	el, e := c.s.element(c, ib)
	if e != nil {
		return Result{}, e
	}
	fields := ciMap(c.params, "FIELDS")
	if fields == nil {
		return Result{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELDS` is missing")
	}
	cp := *el
	cp.props = map[int][]propValue{}
	for k, v := range el.props {
		cp.props[k] = append([]propValue(nil), v...)
	}
	if e := c.s.writeProps(ib, &cp, fields, true); e != nil {
		return Result{}, e
	}
	*el = cp
	return ok(true)
}

// listsElementDelete implements lists.element.delete.
func listsElementDelete(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	el, e := c.s.element(c, ib)
	if e != nil {
		return Result{}, e
	}
	delete(ib.elements, el.id)
	return ok(true)
}

// listsElementGet implements lists.element.get.
func listsElementGet(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	offset, noCount := readStart(c.params)
	var els []*listElement
	if ciHas(c.params, "ELEMENT_ID") || ciHas(c.params, "ELEMENT_CODE") {
		el, e := c.s.element(c, ib)
		if e != nil {
			return Result{}, e
		}
		els = []*listElement{el}
	} else {
		for _, id := range sortedElementIDs(ib) {
			els = append(els, ib.elements[id])
		}
	}
	resolve := func(n string) (string, bool) { return strings.ToUpper(n), true }
	filter, e := parseFilter(ciMap(c.params, "FILTER"), resolve)
	if e != nil {
		return Result{}, e
	}
	getter := func(el *listElement) func(string) any {
		v := c.s.elementView(ib, el, nil)
		return func(f string) any {
			x, _ := v.Get(f)
			if m, ok := x.(*phpform.Map); ok {
				return m.Values()
			}
			return x
		}
	}
	var kept []*listElement
	for _, el := range els {
		if filter.match(getter(el)) {
			kept = append(kept, el)
		}
	}
	if om := ciMap(c.params, "ELEMENT_ORDER"); om != nil {
		order, _ := parseOrder(om, resolve)
		sortRecords(kept, order, func(el *listElement, f string) any { return getter(el)(f) })
	}
	var sel map[string]bool
	if sm := ciMap(c.params, "SELECT"); sm.Len() > 0 {
		sel = map[string]bool{}
		for _, v := range sm.Values() {
			sv, _ := phpform.LeafString(v)
			sel[strings.ToUpper(sv)] = true
		}
	}
	from, to, total, next := classicPage(len(kept), offset, noCount)
	out := []any{}
	for _, el := range kept[from:to] {
		out = append(out, c.s.elementView(ib, el, sel))
	}
	return Result{Value: out, Total: total, Next: next}, nil
}

// listsElementGetFileURL implements lists.element.get.file.url.
func listsElementGetFileURL(c *Request) (Result, error) {
	ib, e := c.s.iblock(c)
	if e != nil {
		return Result{}, e
	}
	el, e := c.s.element(c, ib)
	if e != nil {
		return Result{}, e
	}
	fid := toInt(strings.TrimPrefix(strings.ToUpper(ciString(c.params, "FIELD_ID")), "PROPERTY_"))
	if fid == 0 {
		return Result{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELD_ID` is missing")
	}
	out := []any{}
	for _, pv := range el.props[fid] {
		out = append(out, fmt.Sprintf("/company/lists/%d/file/0/%d/PROPERTY_%d/%d/?ncc=y&download=y", ib.id, el.id, fid, pv.id))
	}
	return ok(out)
}
