package bitrixtest

import (
	"encoding/base64"
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

func (s *Server) iblock(c *Request) (*listIBlock, *APIError) {
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

func (s *Server) element(c *Request, ib *listIBlock) (*listElement, *APIError) {
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
func (s *Server) writeProps(ib *listIBlock, e *listElement, fields *phpform.Map, update bool) *APIError {
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
		rest, isProp := strings.CutPrefix(up, "PROPERTY_")
		if !isProp {
			continue
		}
		if del, isDel := strings.CutSuffix(rest, "_DEL"); isDel {
			e.deleteValues(toInt(del), idSet(v))
			continue
		}
		if err := s.writeProp(ib, e, toInt(rest), v); err != nil {
			return err
		}
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

// deleteValues drops the values of property pid whose ids are in del
// (PROPERTY_<id>_DEL).
func (e *listElement) deleteValues(pid int, del map[string]bool) {
	var kept []propValue
	for _, pv := range e.props[pid] {
		if !del[strconv.Itoa(pv.id)] {
			kept = append(kept, pv)
		}
	}
	e.props[pid] = kept
}

// writeProp sets property pid of the element from v (PROPERTY_<id>).
func (s *Server) writeProp(ib *listIBlock, e *listElement, pid int, v any) *APIError {
	f := ib.field(pid)
	if f == nil {
		return nil
	}
	w := propWriter{s: s, f: f, old: map[int]propValue{}}
	for _, pv := range e.props[pid] {
		w.old[pv.id] = pv
	}
	if f.Type == "F" {
		w.vals = e.props[pid] // new files are added
	}
	if m, ok := v.(*phpform.Map); ok && !(ciHas(m, "VALUE") || f.Type == "F" && m.IsList() && m.Len() == 2 && !f.Multiple && isFilePair(m)) {
		for _, key := range m.Keys() {
			x, _ := m.Get(key)
			if err := w.add(key, x); err != nil {
				return err
			}
		}
	} else if err := w.add("", v); err != nil {
		return err
	}
	if !f.Multiple && len(w.vals) > 1 {
		w.vals = w.vals[len(w.vals)-1:]
	}
	e.props[pid] = w.vals
	return nil
}

// propWriter collects the new values of one property.
type propWriter struct {
	s    *Server
	f    *ListField
	old  map[int]propValue // the values before, by id
	vals []propValue
}

// add adds value x sent under key (a value id keeps that id).
func (w *propWriter) add(key string, x any) *APIError {
	if m, ok := x.(*phpform.Map); ok && ciHas(m, "VALUE") {
		x = ciGet(m, "VALUE")
	}
	if w.f.Type == "F" {
		name, data, err := fileValue(x)
		if err != nil {
			return err
		}
		if name == "" && data == "" {
			return nil
		}
		w.s.lists.nextVal++
		w.vals = append(w.vals, propValue{id: w.s.lists.nextVal, value: strconv.Itoa(w.s.lists.nextVal), file: name})
		return nil
	}
	sv, isLeaf := phpform.LeafString(x)
	if !isLeaf || sv == "" {
		return nil
	}
	if id, err := strconv.Atoi(key); err == nil {
		if pv, ok := w.old[id]; ok {
			pv.value = sv
			w.vals = append(w.vals, pv)
			return nil
		}
	}
	w.s.lists.nextVal++
	w.vals = append(w.vals, propValue{id: w.s.lists.nextVal, value: sv})
	return nil
}

func isFilePair(m *phpform.Map) bool {
	a, _ := m.Get("0")
	_, isStr := a.(string)
	return isStr
}

// fileValue reads a file property value: base64 or [name, base64]. A bare
// number is a file id, which the portal refuses.
func fileValue(x any) (name, data string, e *APIError) {
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

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
