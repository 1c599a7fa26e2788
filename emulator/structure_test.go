package emulator_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/platform"
)

// The structure the rest of wxemu builds on: one owner of state, an HTTP layer that knows only
// the platform, no embedding of the platform or the emulator.
var _ = Describe("The platform's structure", func() {
	It("gives the API server the platform and the wire formats, never the stores or the judges", func() {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./apiserver").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		imports := strings.Fields(string(out))
		Expect(imports).To(ContainElement("github.com/wxemu/wxemu/emulator/platform"))
		for _, forbidden := range []string{"emulator/state", "emulator/rules", "emulator/journal"} {
			Expect(imports).NotTo(ContainElement("github.com/wxemu/wxemu/"+forbidden), "apiserver imports %s", forbidden)
		}
	})

	It("keeps the recorder a writer of text from journal entries: no state, no platform, no scenario runner", func() {
		// The platform owns a recording and calls the recorder; the API server never does.
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./record").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		for _, imp := range strings.Fields(string(out)) {
			if strings.HasPrefix(imp, "github.com/wxemu/wxemu/") {
				Expect(imp).To(BeElementOf("github.com/wxemu/wxemu/emulator/journal", "github.com/wxemu/wxemu/emulator/wire"), "record imports %s", imp)
			}
		}
		out, err = exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./apiserver").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		for _, forbidden := range []string{"emulator/record", "emulator/scenario"} {
			Expect(strings.Fields(string(out))).NotTo(ContainElement("github.com/wxemu/wxemu/"+forbidden), "apiserver imports %s", forbidden)
		}
	})

	It("keeps every field of Platform unexported", func() {
		t := reflect.TypeOf(platform.Platform{})
		for i := range t.NumField() {
			Expect(t.Field(i).IsExported()).To(BeFalse(), "Platform.%s is exported", t.Field(i).Name)
		}
	})

	It("types every journal entry: no field of an entry or its records is an interface", func() {
		for _, v := range []any{platform.Entry{}, journal.Push{}, journal.APICall{}, journal.KFChange{}, journal.StateChange{}, journal.Control{}, journal.Finding{}, journal.Log{}} {
			t := reflect.TypeOf(v)
			for i := range t.NumField() {
				Expect(t.Field(i).Type.Kind()).NotTo(Equal(reflect.Interface), "%s.%s", t.Name(), t.Field(i).Name)
			}
		}
	})

	It("has no type that embeds *platform.Platform or *emulator.Emulator", func() {
		var found []string
		eachGoFile("", func(fset *token.FileSet, f *ast.File) {
			ast.Inspect(f, func(n ast.Node) bool {
				st, ok := n.(*ast.StructType)
				if !ok {
					return true
				}
				for _, field := range st.Fields.List {
					if len(field.Names) > 0 {
						continue
					}
					typ := field.Type
					if star, ok := typ.(*ast.StarExpr); ok {
						typ = star.X
					}
					if sel, ok := typ.(*ast.SelectorExpr); ok {
						name := sel.X.(*ast.Ident).Name + "." + sel.Sel.Name
						if name == "platform.Platform" || name == "emulator.Emulator" {
							found = append(found, fset.Position(field.Pos()).String()+": embeds "+name)
						}
					}
				}
				return true
			})
		})
		Expect(found).To(BeEmpty())
	})

	It("asserts journal data nowhere outside the journal package: entries are typed", func() {
		var found []string
		eachGoFile("emulator/journal/", func(fset *token.FileSet, f *ast.File) {
			ast.Inspect(f, func(n ast.Node) bool {
				if ta, ok := n.(*ast.TypeAssertExpr); ok {
					if sel, ok := ta.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Data" {
						found = append(found, fset.Position(ta.Pos()).String())
					}
				}
				return true
			})
		})
		Expect(found).To(BeEmpty(), "a type assertion on .Data")
	})
})

// eachGoFile parses every Go file of the repository, but those under skip.
func eachGoFile(skip string, visit func(fset *token.FileSet, f *ast.File)) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || (skip != "" && strings.Contains(filepath.ToSlash(path), skip)) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		visit(fset, f)
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
}
