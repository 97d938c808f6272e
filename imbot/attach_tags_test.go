package imbot_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/b24go/sdk/imbot"
)

// TestAttachWireNamesAreTags: every exported field of the attachment
// types carries its wire name as an upper-case json tag, so the struct
// is the one place the names live.
func TestAttachWireNamesAreTags(t *testing.T) {
	t.Parallel()
	for _, v := range []any{imbot.Attach{}, imbot.AttachLink{}, imbot.AttachUser{}, imbot.Delimiter{},
		imbot.GridItem{}, imbot.AttachImage{}, imbot.AttachFile{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name != strings.ToUpper(name) {
				t.Errorf("%s.%s: json tag %q, want the portal's upper-case name", typ.Name(), f.Name, f.Tag.Get("json"))
			}
		}
	}
}
