package bitrixtest

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

// ListField describes a property of a universal list (see [Server.AddList]).
type ListField struct {
	ID       int               // property id (PROPERTY_<ID>); 0 = assigned
	Name     string            // label
	Code     string            // symbolic code
	Type     string            // S (string), N (number), L (list), F (file), S:Date, S:DateTime, E (link)...
	Multiple bool              // several values
	Required bool              // IS_REQUIRED
	Enum     map[string]string // L: value id → label
}

type listIBlock struct {
	id       int
	typeID   string
	code     string
	name     string
	socnet   int
	fields   []*ListField
	elements map[int]*listElement
}

type propValue struct {
	id    int
	value string
	file  string // file name for F properties
}

type listElement struct {
	id        int
	code      string
	name      string
	section   int
	createdBy int
	created   string
	sort      int
	props     map[int][]propValue
}

type listStore struct {
	iblocks map[int]*listIBlock
	nextID  int
	nextVal int
	nextEl  int
	nextFld int
}

func newListStore() *listStore {
	return &listStore{iblocks: map[int]*listIBlock{}, nextID: 0, nextFld: 100}
}

// AddList creates a universal list (an iblock) of type iblockTypeID
// ("lists", "bitrix_processes" or "lists_socnet") with the given properties
// and returns its id; fields with ID 0 get ids assigned in place.
func (s *Server) AddList(iblockTypeID, code, name string, fields ...*ListField) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists.nextID++
	ib := &listIBlock{id: s.lists.nextID, typeID: iblockTypeID, code: code, name: name, elements: map[int]*listElement{}}
	for _, f := range fields {
		if f.ID == 0 {
			s.lists.nextFld++
			f.ID = s.lists.nextFld
		}
		if f.Type == "" {
			f.Type = "S"
		}
		ib.fields = append(ib.fields, f)
	}
	s.lists.iblocks[ib.id] = ib
	return ib.id
}

// ListElement is a stored list element (see [Server.ListElements]).
type ListElement struct {
	ID         int
	Code       string
	Name       string
	Properties map[string][]string // "PROPERTY_12" → values in order
}

// ListElements returns the elements of a list in id order.
func (s *Server) ListElements(iblockID int) []ListElement {
	s.mu.Lock()
	defer s.mu.Unlock()
	ib := s.lists.iblocks[iblockID]
	if ib == nil {
		return nil
	}
	var out []ListElement
	for _, id := range sortedElementIDs(ib) {
		e := ib.elements[id]
		le := ListElement{ID: e.id, Code: e.code, Name: e.name, Properties: map[string][]string{}}
		for pid, vals := range e.props {
			for _, v := range vals {
				le.Properties["PROPERTY_"+strconv.Itoa(pid)] = append(le.Properties["PROPERTY_"+strconv.Itoa(pid)], v.value)
			}
		}
		out = append(out, le)
	}
	return out
}

func sortedElementIDs(ib *listIBlock) []int {
	ids := make([]int, 0, len(ib.elements))
	for id := range ib.elements {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (s *Server) iblock(c *call) (*listIBlock, *apiError) {
	typ := ciString(c.params, "IBLOCK_TYPE_ID")
	if typ == "" {
		return nil, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `IBLOCK_TYPE_ID` is missing")
	}
	id, code := ciInt(c.params, "IBLOCK_ID"), ciString(c.params, "IBLOCK_CODE")
	if id == 0 && code == "" {
		return nil, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `IBLOCK_ID` is missing")
	}
	for _, ib := range s.lists.iblocks {
		if ib.typeID == typ && (ib.id == id || (id == 0 && ib.code == code)) {
			return ib, nil
		}
	}
	return nil, errf(400, "ERROR_IBLOCK_NOT_FOUND", "Iblock not found")
}

func (ib *listIBlock) field(id int) *ListField {
	for _, f := range ib.fields {
		if f.ID == id {
			return f
		}
	}
	return nil
}

func (s *Server) element(c *call, ib *listIBlock) (*listElement, *apiError) {
	id, code := ciInt(c.params, "ELEMENT_ID"), ciString(c.params, "ELEMENT_CODE")
	if id == 0 && code == "" {
		return nil, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `ELEMENT_ID` is missing")
	}
	for _, e := range ib.elements {
		if e.id == id || (id == 0 && e.code == code) {
			return e, nil
		}
	}
	return nil, errf(400, "ERROR_ELEMENT_NOT_FOUND", "Element not found")
}

// writeProps applies FIELDS to an element. Multi-values may be a list, a
// positional map {"0":…} or an nX map {"n0":…}; numeric keys that are
// existing value ids keep those ids.
func (s *Server) writeProps(ib *listIBlock, e *listElement, fields *phpform.Map, update bool) *apiError {
	if update {
		// Unsent fields are cleared, except file properties.
		e.name = ""
		for pid := range e.props {
			if f := ib.field(pid); f == nil || f.Type != "F" {
				delete(e.props, pid)
			}
		}
	}
	for _, k := range fields.Keys() {
		v, _ := fields.Get(k)
		up := strings.ToUpper(k)
		switch up {
		case "NAME":
			e.name, _ = phpform.LeafString(v)
			continue
		case "IBLOCK_SECTION_ID":
			e.section = toInt(v)
			continue
		case "SORT":
			e.sort = toInt(v)
			continue
		}
		if !strings.HasPrefix(up, "PROPERTY_") {
			continue
		}
		rest := up[len("PROPERTY_"):]
		if strings.HasSuffix(rest, "_DEL") {
			pid := toInt(strings.TrimSuffix(rest, "_DEL"))
			del := idSet(v)
			var kept []propValue
			for _, pv := range e.props[pid] {
				if !del[strconv.Itoa(pv.id)] {
					kept = append(kept, pv)
				}
			}
			e.props[pid] = kept
			continue
		}
		pid := toInt(rest)
		f := ib.field(pid)
		if f == nil {
			continue
		}
		old := map[int]propValue{}
		for _, pv := range e.props[pid] {
			old[pv.id] = pv
		}
		var vals []propValue
		if f.Type == "F" {
			vals = e.props[pid] // new files are added
		}
		add := func(key string, x any) *apiError {
			if m, ok := x.(*phpform.Map); ok && ciHas(m, "VALUE") {
				x = ciGet(m, "VALUE")
			}
			if f.Type == "F" {
				name, data, err := fileValue(x)
				if err != nil {
					return err
				}
				if name == "" && data == "" {
					return nil
				}
				s.lists.nextVal++
				vals = append(vals, propValue{id: s.lists.nextVal, value: strconv.Itoa(s.lists.nextVal), file: name})
				return nil
			}
			sv, isLeaf := phpform.LeafString(x)
			if !isLeaf || sv == "" {
				return nil
			}
			if id, err := strconv.Atoi(key); err == nil {
				if pv, ok := old[id]; ok {
					pv.value = sv
					vals = append(vals, pv)
					return nil
				}
			}
			s.lists.nextVal++
			vals = append(vals, propValue{id: s.lists.nextVal, value: sv})
			return nil
		}
		if m, ok := v.(*phpform.Map); ok && !(ciHas(m, "VALUE") || f.Type == "F" && m.IsList() && m.Len() == 2 && !f.Multiple && isFilePair(m)) {
			for _, key := range m.Keys() {
				x, _ := m.Get(key)
				if err := add(key, x); err != nil {
					return err
				}
			}
		} else if err := add("", v); err != nil {
			return err
		}
		if !f.Multiple && len(vals) > 1 {
			vals = vals[len(vals)-1:]
		}
		e.props[pid] = vals
	}
	for _, f := range ib.fields {
		if f.Required && len(e.props[f.ID]) == 0 {
			return errf(400, "ERROR_ADD_ELEMENT", "Field \"%s\" is required", f.Name)
		}
	}
	if e.name == "" {
		return errf(400, "ERROR_ADD_ELEMENT", "Field \"Name\" is required")
	}
	return nil
}

func isFilePair(m *phpform.Map) bool {
	a, _ := m.Get("0")
	_, isStr := a.(string)
	return isStr
}

// fileValue reads a file property value: base64 or [name, base64]. A bare
// number is a file id, which the portal refuses.
func fileValue(x any) (name, data string, e *apiError) {
	switch v := x.(type) {
	case *phpform.Map:
		a, _ := v.Get("0")
		b, _ := v.Get("1")
		name, _ = phpform.LeafString(a)
		data, _ = phpform.LeafString(b)
	default:
		data, _ = phpform.LeafString(v)
		name = "file"
	}
	if data == "" {
		return "", "", nil
	}
	if _, err := strconv.Atoi(data); err == nil {
		return "", "", errf(400, "ERROR_ELEMENT_FIELD_VALUE", "Writing file values by ID is not supported")
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return "", "", errf(400, "ERROR_ELEMENT_FIELD_VALUE", "Invalid file content")
	}
	return name, data, nil
}

func (s *Server) elementView(ib *listIBlock, e *listElement, sel map[string]bool) *phpform.Map {
	m := phpform.NewMap()
	set := func(k string, v any) {
		if sel == nil || sel[k] || k == "ID" {
			m.Set(k, v)
		}
	}
	set("ID", strconv.Itoa(e.id))
	set("IBLOCK_ID", strconv.Itoa(ib.id))
	set("NAME", e.name)
	set("IBLOCK_SECTION_ID", strconv.Itoa(e.section))
	set("CREATED_BY", strconv.Itoa(e.createdBy))
	set("BP_PUBLISHED", "Y")
	set("CODE", e.code)
	set("DATE_CREATE", e.created)
	set("SORT", strconv.Itoa(e.sort))
	for _, f := range ib.fields {
		key := "PROPERTY_" + strconv.Itoa(f.ID)
		vals := e.props[f.ID]
		if len(vals) == 0 || (sel != nil && !sel[key]) {
			continue
		}
		vm := phpform.NewMap()
		for _, pv := range vals {
			vm.Set(strconv.Itoa(pv.id), pv.value)
		}
		m.Set(key, vm)
	}
	return m
}

func registerLists() {
	register("lists.get", "lists", func(c *call) (reply, *apiError) {
		typ := ciString(c.params, "IBLOCK_TYPE_ID")
		if typ == "" {
			return reply{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `IBLOCK_TYPE_ID` is missing")
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
		return reply{result: out, total: total, next: next}, nil
	})
	register("lists.field.get", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
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
			return reply{}, errf(400, "ERROR_FIELD_NOT_FOUND", "Field not found")
		}
		return ok(res)
	})
	register("lists.element.add", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
		}
		code := ciString(c.params, "ELEMENT_CODE")
		if code == "" {
			return reply{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `ELEMENT_CODE` is missing")
		}
		for _, el := range ib.elements {
			if el.code == code {
				return reply{}, errf(400, "ERROR_ELEMENT_ALREADY_EXISTS", "Element with this code already exists")
			}
		}
		fields := ciMap(c.params, "FIELDS")
		if fields == nil {
			return reply{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELDS` is missing")
		}
		el := &listElement{code: code, createdBy: c.auth.userID, created: c.now.In(c.s.cfg.loc).Format("01/02/2006 03:04:05 pm"), sort: 500, props: map[int][]propValue{}, section: ciInt(c.params, "IBLOCK_SECTION_ID")}
		if e := c.s.writeProps(ib, el, fields, false); e != nil {
			return reply{}, e
		}
		c.s.lists.nextEl++
		el.id = c.s.lists.nextEl
		ib.elements[el.id] = el
		return ok(el.id)
	})
	register("lists.element.update", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
		}
		el, e := c.s.element(c, ib)
		if e != nil {
			return reply{}, e
		}
		fields := ciMap(c.params, "FIELDS")
		if fields == nil {
			return reply{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELDS` is missing")
		}
		cp := *el
		cp.props = map[int][]propValue{}
		for k, v := range el.props {
			cp.props[k] = append([]propValue(nil), v...)
		}
		if e := c.s.writeProps(ib, &cp, fields, true); e != nil {
			return reply{}, e
		}
		*el = cp
		return ok(true)
	})
	register("lists.element.delete", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
		}
		el, e := c.s.element(c, ib)
		if e != nil {
			return reply{}, e
		}
		delete(ib.elements, el.id)
		return ok(true)
	})
	register("lists.element.get", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
		}
		offset, noCount := readStart(c.params)
		var els []*listElement
		if ciHas(c.params, "ELEMENT_ID") || ciHas(c.params, "ELEMENT_CODE") {
			el, e := c.s.element(c, ib)
			if e != nil {
				return reply{}, e
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
			return reply{}, e
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
		return reply{result: out, total: total, next: next}, nil
	})
	register("lists.element.get.file.url", "lists", func(c *call) (reply, *apiError) {
		ib, e := c.s.iblock(c)
		if e != nil {
			return reply{}, e
		}
		el, e := c.s.element(c, ib)
		if e != nil {
			return reply{}, e
		}
		fid := toInt(strings.TrimPrefix(strings.ToUpper(ciString(c.params, "FIELD_ID")), "PROPERTY_"))
		if fid == 0 {
			return reply{}, errf(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "Required parameter `FIELD_ID` is missing")
		}
		out := []any{}
		for _, pv := range el.props[fid] {
			out = append(out, fmt.Sprintf("/company/lists/%d/file/0/%d/PROPERTY_%d/%d/?ncc=y&download=y", ib.id, el.id, fid, pv.id))
		}
		return ok(out)
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
