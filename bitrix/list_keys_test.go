package bitrix_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
	"github.com/b24go/sdk/internal/phpform"
)

// TestAllListsElementKeys: lists.element.get spells its parameters FILTER
// and ELEMENT_ORDER; the scan must use those keys in every command.
func TestAllListsElementKeys(t *testing.T) {
	t.Parallel()
	p := newPortal(t)
	var cmds []string
	p.handle("batch", func(w http.ResponseWriter, r recorded) {
		cm := r.Form.Map("cmd")
		res := map[string]any{}
		for _, k := range cm.Keys() {
			cmds = append(cmds, k+"="+cm.String(k))
			if k == "tail" {
				res[k] = []any{map[string]any{"ID": "30", "NAME": "c"}, map[string]any{"ID": "20", "NAME": "b"}, map[string]any{"ID": "10", "NAME": "a"}}
			} else {
				res[k] = []any{}
			}
		}
		ok(map[string]any{"result": res, "result_error": []any{}})(w, r)
	})
	c := newWebhookClient(t, p)
	q := bitrix.Query{Method: "lists.element.get", FilterKey: "FILTER", OrderKey: "ELEMENT_ORDER",
		Params: bitrix.Params{"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 7, "FILTER": bitrix.Params{"=NAME": "x"}}}
	var names []string
	for row, err := range bitrix.All[struct{ NAME string }](t.Context(), c, q) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, row.NAME)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("rows = %v, want ascending a,b,c", names)
	}
	if len(cmds) != 50 {
		t.Fatalf("commands = %d", len(cmds))
	}
	parse := func(s string) map[string]any {
		_, q, _ := strings.Cut(s, "?")
		m, err := phpform.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		return phpform.Plain(m).(map[string]any)
	}
	tail := parse(cmds[0])
	if !strings.HasPrefix(cmds[0], "tail=lists.element.get?") || tail["ELEMENT_ORDER"].(map[string]any)["ID"] != "DESC" ||
		tail["start"] != "-1" || tail["FILTER"].(map[string]any)["=NAME"] != "x" || tail["IBLOCK_ID"] != "7" {
		t.Errorf("tail command %v", tail)
	}
	p1 := parse(cmds[2])
	f := p1["FILTER"].(map[string]any)
	if f[">ID"] != "$result[p0][49][ID]" || f["<ID"] != "$result[tail][49][ID]" || f["=NAME"] != "x" ||
		p1["ELEMENT_ORDER"].(map[string]any)["ID"] != "ASC" || p1["order"] != nil || p1["filter"] != nil {
		t.Errorf("chained command %v", p1)
	}
}
