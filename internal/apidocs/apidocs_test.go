package apidocs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// notREST are exported methods with a context that are not REST method
// wrappers (they run loops or keep state over the methods that are).
var notREST = map[string]bool{
	"imbotv2.Poller.Run":                   true,
	"imbotv2.Poller.Once":                  true,
	"imbotv2.Poller.Dispatch":              true,
	"imbotv2.MemoryOffsetStore.LoadOffset": true,
	"imbotv2.MemoryOffsetStore.SaveOffset": true,
}

var (
	restName = regexp.MustCompile(`^(crm|lists|imbot|im)\.[A-Za-z0-9_.]+$`)
	linkDef  = regexp.MustCompile(`(?m)^\[([A-Za-z0-9_.]+)\]: (https://apidocs\.bitrix24\.com/api-reference/[a-z0-9./_-]+\.html)$`)
)

// TestTypedMethodsLinkTheirDocs parses crm, lists, imbot and imbotv2 and
// checks every exported method whose first parameter is a context (one
// that calls the portal): its doc comment says "Bitrix24 method" and
// defines a link for each REST method name its body spells out, pointing
// at https://apidocs.bitrix24.com/api-reference/....html.
func TestTypedMethodsLinkTheirDocs(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, pkg := range []string{"crm", "lists", "imbot", "imbotv2"} {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join("..", "..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv == nil || !fd.Name.IsExported() || !takesContext(fd) {
					continue
				}
				name := pkg + "." + recvName(fd) + "." + fd.Name.Name
				if notREST[name] || !ast.IsExported(recvName(fd)) {
					continue
				}
				checked++
				checkDoc(t, name, fset.Position(fd.Pos()), fd)
			}
		}
	}
	if checked < 80 {
		t.Errorf("checked %d methods; the parser found fewer than the packages have", checked)
	}
}

func checkDoc(t *testing.T, name string, pos token.Position, fd *ast.FuncDecl) {
	doc := fd.Doc.Text()
	if !strings.Contains(doc, "Bitrix24 method") {
		t.Errorf("%s (%s): doc does not name its Bitrix24 method", name, pos)
	}
	links := map[string]string{}
	for _, m := range linkDef.FindAllStringSubmatch(doc, -1) {
		links[m[1]] = m[2]
	}
	if len(links) == 0 {
		t.Errorf("%s (%s): doc has no https://apidocs.bitrix24.com/api-reference/ link", name, pos)
		return
	}
	for _, m := range bodyMethods(fd) {
		u, ok := links[m]
		if !ok {
			t.Errorf("%s (%s): calls %s but its doc does not link it", name, pos, m)
			continue
		}
		// The page's file name is the method's name in kebab case, the
		// imbot.v2 pages without their prefix ("imbot.v2.Chat.Message.send"
		// → chat-message-send.html).
		if want := slug(m); !strings.HasSuffix(u, "/"+want+".html") {
			t.Errorf("%s: link of %s is %s, want a page named %s.html", name, m, u, want)
		}
	}
}

func slug(method string) string {
	m := strings.TrimPrefix(method, "imbot.v2.")
	var b strings.Builder
	for i, r := range m {
		switch {
		case r == '.':
			b.WriteByte('-')
		case r >= 'A' && r <= 'Z':
			if i > 0 && m[i-1] != '.' {
				b.WriteByte('-')
			}
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func takesContext(fd *ast.FuncDecl) bool {
	ps := fd.Type.Params.List
	if len(ps) == 0 {
		return false
	}
	sel, ok := ps[0].Type.(*ast.SelectorExpr)
	return ok && fmt.Sprint(sel.X) == "context" && sel.Sel.Name == "Context"
}

func recvName(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return fmt.Sprint(t)
}

// bodyMethods returns the REST method names spelled as string literals in
// fd's body.
func bodyMethods(fd *ast.FuncDecl) []string {
	var out []string
	seen := map[string]bool{}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil && restName.MatchString(s) && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"crm.item.productrow.add":          "crm-item-productrow-add",
		"imbot.chat.sendTyping":            "imbot-chat-send-typing",
		"imbot.v2.Chat.Message.getContext": "chat-message-get-context",
		"imbot.v2.Revision.get":            "revision-get",
		"lists.element.get.file.url":       "lists-element-get-file-url",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
