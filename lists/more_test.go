package lists_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/lists"
)

func TestBadInputRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, lc, listID := newPortal(t)
	ctx := t.Context()
	els := lc.Elements(lists.TypeLists, lists.ByID(listID))
	name := lists.Fields{Name: "n"}
	tests := []struct {
		name, field string
		f           func() error
	}{
		{"no type", "IBLOCK_TYPE_ID", func() error {
			_, err := lc.Elements("", lists.ByID(listID)).Get(ctx, lists.ByID(1))
			return err
		}},
		{"no list", "IBLOCK_ID", func() error {
			_, err := lc.Elements(lists.TypeLists, lists.Ref{}).Add(ctx, lists.NewElement{Code: "a", Fields: name})
			return err
		}},
		{"negative list", "IBLOCK_ID", func() error { return lc.Elements(lists.TypeLists, lists.ByID(-1)).Delete(ctx, lists.ByID(1)) }},
		{"add no code", "ELEMENT_CODE", func() error {
			_, err := els.Add(ctx, lists.NewElement{Fields: name})
			return err
		}},
		{"add padded code", "ELEMENT_CODE", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: " a", Fields: name})
			return err
		}},
		{"add no name", "FIELDS.NAME", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a"})
			return err
		}},
		{"add bad property id", "PROPERTY_0", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a", Fields: lists.Fields{Name: "n", Properties: map[int]lists.FieldValue{0: lists.Value("x")}}})
			return err
		}},
		{"add empty file", "PROPERTY_504", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a", Fields: lists.Fields{Name: "n", Properties: map[int]lists.FieldValue{propFile: lists.File("a.txt", nil)}}})
			return err
		}},
		{"add zero date", "PROPERTY_503", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a", Fields: lists.Fields{Name: "n", Properties: map[int]lists.FieldValue{propDue: lists.DateTime(time.Time{})}}})
			return err
		}},
		{"add unsupported value", "PROPERTY_501", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a", Fields: lists.Fields{Name: "n", Properties: map[int]lists.FieldValue{propColor: lists.Value([]int{1})}}})
			return err
		}},
		{"add name in extra", "FIELDS.NAME", func() error {
			_, err := els.Add(ctx, lists.NewElement{Code: "a", Fields: lists.Fields{Name: "n", Extra: map[string]any{"name": "x"}}})
			return err
		}},
		{"get no element", "ELEMENT_ID", func() error {
			_, err := els.Get(ctx, lists.Ref{})
			return err
		}},
		{"get empty select", "SELECT", func() error {
			_, err := els.Get(ctx, lists.ByID(1), "")
			return err
		}},
		{"update no name", "FIELDS.NAME", func() error { return els.Update(ctx, lists.ByID(1), lists.Fields{}) }},
		{"patch no element", "ELEMENT_ID", func() error { return els.Patch(ctx, lists.ByID(0), lists.Fields{}) }},
		{"delete no element", "ELEMENT_ID", func() error { return els.Delete(ctx, lists.ByID(0)) }},
		{"file urls no field", "FIELD_ID", func() error {
			_, err := els.FileURLs(ctx, lists.ByID(1), 0)
			return err
		}},
		{"list negative start", "start", func() error {
			_, _, err := els.List(ctx, lists.Query{}, -1)
			return err
		}},
		{"list empty order", "ELEMENT_ORDER", func() error {
			_, _, err := els.List(ctx, lists.Query{Order: []lists.Order{{}}}, 0)
			return err
		}},
		{"all no list", "IBLOCK_ID", func() error {
			for _, err := range lc.Elements(lists.TypeLists, lists.Ref{}).All(ctx, lists.Query{}) {
				return err
			}
			return nil
		}},
		{"lists no type", "IBLOCK_TYPE_ID", func() error {
			_, err := lc.Lists(ctx, "", 0)
			return err
		}},
		{"field no id", "FIELD_ID", func() error {
			_, err := lc.Field(ctx, lists.TypeLists, lists.ByID(listID), " ")
			return err
		}},
	}
	before := srv.Requests()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f()
			var ve *bitrix.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Field, tc.field) {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
			}
			if !errors.Is(err, bitrix.ErrInvalidArgument) {
				t.Errorf("not ErrInvalidArgument: %v", err)
			}
		})
	}
	if n := srv.Requests() - before; n != 0 {
		t.Errorf("%d requests sent for refused input", n)
	}
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	els := func(name string, status int) *lists.Elements {
		return serveFixture(t, name, status).Elements(lists.TypeLists, lists.ByID(41))
	}
	id, err := els("resp_lists_element_add.json", 200).Add(ctx, lists.NewElement{Code: "c", Fields: lists.Fields{Name: "n"}})
	if err != nil || id != 6999 {
		t.Errorf("add = %d, %v", id, err)
	}
	if err := els("resp_lists_element_update.json", 200).Update(ctx, lists.ByID(1), lists.Fields{Name: "n"}); err != nil {
		t.Errorf("update: %v", err)
	}
	if err := els("resp_lists_element_delete.json", 200).Delete(ctx, lists.ByCode("c")); err != nil {
		t.Errorf("delete: %v", err)
	}
	urls, err := els("resp_lists_element_get_file_url_disk.json", 200).FileURLs(ctx, lists.ByID(1), 425)
	if err != nil || len(urls) != 1 || urls[0] != "/bitrix/tools/disk/uf.php?attachedId=103&action=download&ncc=1" {
		t.Errorf("file urls = %v, %v", urls, err)
	}
	_, err = els("error_lists_element_add.json", 400).Add(ctx, lists.NewElement{Code: "c", Fields: lists.Fields{Name: "n"}})
	var apiErr *bitrix.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "ERROR_ELEMENT_FIELD_VALUE" || !errors.Is(err, bitrix.ErrInvalidArgument) {
		t.Errorf("add error = %v", err)
	}

	ls, err := serveFixture(t, "resp_lists_get.json", 200).Lists(ctx, lists.TypeGroupLists, 33)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 {
		t.Fatalf("lists = %+v", ls)
	}
	l := ls[0]
	if l.ID != 89 || l.IBlockTypeID != "lists_socnet" || l.Code != "" || l.Name != "Group List" || !l.Active || l.Sort != 500 || l.SocnetGroupID != 33 {
		t.Errorf("list = %+v", l)
	}
	if string(l.Extra["TIMESTAMP_X"]) != `"05/17/2023 04:09:23 pm"` || string(l.Extra["BIZPROC"]) != `"Y"` {
		t.Errorf("extra = %v", l.Extra)
	}

	f, err := serveFixture(t, "resp_lists_field_get.json", 200).Field(ctx, lists.TypeLists, lists.ByID(41), "PROPERTY_1151")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"1669": "Planning", "1671": "In Active Work", "1673": "Testing", "1675": "Completed", "1677": "Deferred", "1679": "Archive"}
	if f.FieldID != "PROPERTY_1151" || f.ID != 1151 || f.PropertyID() != 1151 || f.Sort != 50 || f.Name != "Task Status" ||
		f.IsRequired || f.Multiple || f.DefaultValue != "1685" || f.Type != "L" || f.PropertyType != "L" || f.UserType != "" || f.Code != "PROJECT" {
		t.Errorf("field = %+v", f)
	}
	if diff := cmp.Diff(want, f.DisplayValues); diff != "" {
		t.Errorf("DisplayValues (-want +got):\n%s", diff)
	}
	if _, ok := f.Extra["SETTINGS"]; !ok {
		t.Error("SETTINGS not kept")
	}
}

func TestPropertyShapes(t *testing.T) {
	t.Parallel()
	// Rows as the portal sends them: {valueId: value} maps, plain values, arrays, empties.
	row := `{"ID":"7","IBLOCK_ID":"41","NAME":"n","CODE":"c","DATE_CREATE":"31.12.2024 23:59:59",
		"PROPERTY_951":{"3743":"1269","3745":"1271"},
		"PROPERTY_1003":{"3747":"12/31/2024 11:59:59 pm"},
		"PROPERTY_10":"plain","PROPERTY_11":["a","b"],"PROPERTY_12":null,"PROPERTY_13":[],"PROPERTY_14":false,
		"PROPERTY_15":{"9":{"TEXT":"<b>x</b>","TYPE":"HTML"}},"PROPERTY_16":12.5,"PROPERTY_17":{"1":"3,5"},
		"PREVIEW_TEXT":"p"}`
	_, lc, _ := newPortal(t, lists.WithDateFormat("02.01.2006 15:04:05", "02.01.2006"), lists.WithLocation(time.FixedZone("MSK", 3*3600)))
	el, err := lists.DecodeElement(json.RawMessage(row), lc.DateFormat())
	if err != nil {
		t.Fatal(err)
	}
	msk := time.FixedZone("MSK", 3*3600)
	if !el.DateCreate.Equal(time.Date(2024, 12, 31, 23, 59, 59, 0, msk)) {
		t.Errorf("DATE_CREATE = %v", el.DateCreate)
	}
	p := el.Property(951)
	if diff := cmp.Diff([]string{"3743", "3745"}, p.ValueIDs()); diff != "" {
		t.Errorf("value ids (-want +got):\n%s", diff)
	}
	if ids, err := p.Ints(); err != nil || !cmp.Equal(ids, []int{1269, 1271}) {
		t.Errorf("ints = %v, %v", ids, err)
	}
	if d, err := el.Property(1003).Time(); err != nil || !d.Equal(time.Date(2024, 12, 31, 23, 59, 59, 0, msk)) {
		t.Errorf("US date with a European layout configured = %v, %v", d, err)
	}
	if el.Property(10).String() != "plain" || el.Property(10).ValueIDs()[0] != "" {
		t.Errorf("plain = %+v", el.Property(10))
	}
	if diff := cmp.Diff([]string{"a", "b"}, el.Property(11).Strings()); diff != "" {
		t.Errorf("array (-want +got):\n%s", diff)
	}
	for _, id := range []int{12, 13, 14, 99} {
		if !el.Property(id).IsEmpty() {
			t.Errorf("property %d not empty: %+v", id, el.Property(id))
		}
	}
	if _, err := el.Property(12).Int(); !errors.Is(err, lists.ErrNoValue) {
		t.Errorf("Int of empty: %v", err)
	}
	html := el.Property(15)
	if html.String() != "<b>x</b>" || string(html.Values[0].Raw) != `{"TEXT":"<b>x</b>","TYPE":"HTML"}` {
		t.Errorf("html = %+v", html)
	}
	if f, err := el.Property(16).Float(); err != nil || f != 12.5 {
		t.Errorf("float = %v, %v", f, err)
	}
	if f, err := el.Property(17).Float(); err != nil || f != 3.5 {
		t.Errorf("comma float = %v, %v", f, err)
	}
	if _, err := el.Property(10).Int(); err == nil {
		t.Error("Int of text accepted")
	}
	if string(el.Extra["PREVIEW_TEXT"]) != `"p"` || el.Extra["PROPERTY_10"] != nil || el.Extra["NAME"] != nil {
		t.Errorf("extra = %v", el.Extra)
	}
	if diff := cmp.Diff([]int{10, 11, 12, 13, 14, 15, 16, 17, 951, 1003}, el.PropertyIDs()); diff != "" {
		t.Errorf("property ids (-want +got):\n%s", diff)
	}
}

func TestDateFormat(t *testing.T) {
	t.Parallel()
	us := lists.DefaultDateFormat()
	want := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, s := range []string{"12/31/2024 11:59:59 pm", "12/31/2024 11:59:59 PM", "31.12.2024 23:59:59", "2024-12-31T23:59:59Z", "2024-12-31 23:59:59"} {
		if got, err := us.Parse(s); err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := us.Parse("12/31/2024"); err != nil || !got.Equal(time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date = %v, %v", got, err)
	}
	if _, err := us.Parse("yesterday"); err == nil {
		t.Error("garbage parsed")
	}
	if got := us.FormatDateTime(want); got != "12/31/2024 11:59:59 pm" {
		t.Errorf("FormatDateTime = %q", got)
	}
	// A day-first layout decides the ambiguous 01/02.
	uk := lists.DateFormat{DateTime: "02/01/2006 15:04:05", Date: "02/01/2006"}
	if got, _ := uk.Parse("01/02/2025"); got.Month() != time.February {
		t.Errorf("day-first parse = %v", got)
	}
	if got := uk.FormatDate(want); got != "31/12/2024" {
		t.Errorf("FormatDate = %q", got)
	}
}
