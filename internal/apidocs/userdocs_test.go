package apidocs

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoPath matches what user documentation must not send a reader to: a
// Markdown file of this repository or of the docs repository (link the
// apidocs.bitrix24.com page instead), or our notes in docs/.
var repoPath = regexp.MustCompile(`[A-Za-z0-9_./-]+\.md\b|CONFORMANCE|BENCHMARKS`)

// TestUserDocsHaveNoRepoPaths reads the documentation go doc shows for
// every exported identifier of every public package (package comment,
// declarations, exported struct fields) and refuses raw .md paths and
// references to docs/CONFORMANCE.md or docs/BENCHMARKS.md: those belong in
// code comments, the godoc links the published page.
func TestUserDocsHaveNoRepoPaths(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, dir)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "internal" || name == "examples" || name == "docs" || name == "scripts") {
			return filepath.SkipDir
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		var files []*ast.File
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			files = append(files, f)
		}
		if len(files) == 0 || files[0].Name.Name == "main" {
			return nil
		}
		p, err := doc.NewFromFiles(fset, files, rel)
		if err != nil {
			return err
		}
		checked++
		for where, text := range userDocs(p) {
			if m := repoPath.FindString(text); m != "" {
				t.Errorf("%s: %s: user documentation names %q", rel, where, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 9 {
		t.Fatalf("checked %d packages, want the public ones (bitrix, crm, events, webhook, ...)", checked)
	}
}

// userDocs returns the doc comments go doc -all prints, by identifier.
func userDocs(p *doc.Package) map[string]string {
	out := map[string]string{"package " + p.Name: p.Doc}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			out[strings.Join(v.Names, ",")] = v.Doc
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			out[f.Recv+" "+f.Name] = f.Doc
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(p.Funcs)
	for _, ty := range p.Types {
		out[ty.Name] = ty.Doc
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		funcs(ty.Methods)
		ast.Inspect(ty.Decl, func(n ast.Node) bool {
			if f, ok := n.(*ast.Field); ok && len(f.Names) > 0 && f.Names[0].IsExported() {
				out[ty.Name+"."+f.Names[0].Name] = f.Doc.Text() + f.Comment.Text()
			}
			return true
		})
	}
	return out
}
