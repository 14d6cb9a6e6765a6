package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSkipRace checks that every test that skips itself under the race
// detector (skipRace, here and in package data) runs in one of the
// commands of scripts/test without it: a go test with -run and no -race
// whose pattern matches the test's name, given the test's package.
func TestSkipRace(t *testing.T) {
	script, err := os.ReadFile("../../scripts/test")
	if err != nil {
		t.Fatal(err)
	}
	type command struct {
		run  *regexp.Regexp
		pkgs []string
	}
	var commands []command
	for _, m := range regexp.MustCompile(`(?m)^[^#\n]*\bgo test ([^\n]*?)-run '([^']+)' ([^>&\n]*)`).FindAllStringSubmatch(string(script), -1) {
		if strings.Contains(m[1], "-race") {
			continue
		}
		commands = append(commands, command{regexp.MustCompile(m[2]), strings.Fields(m[3])})
	}
	if len(commands) < 2 {
		t.Fatalf("%d commands with -run in scripts/test, want the two groups without -race and more", len(commands))
	}
	found := 0
	for _, dir := range []string{"internal/cli", "data"} {
		for _, name := range skipRaceTests(t, filepath.Join("../..", dir)) {
			found++
			if !slices.ContainsFunc(commands, func(c command) bool {
				return c.run.MatchString(name) && slices.Contains(c.pkgs, "./"+dir+"/")
			}) {
				t.Errorf("%s skips under the race detector and no command of scripts/test runs it without: add it to a -run pattern with ./%s/", name, dir)
			}
		}
	}
	if found < 20 {
		t.Errorf("%d tests found calling skipRace, want at least 20: the parse missed some", found)
	}
}

// skipRaceTests returns the tests in the _test.go files of dir that call
// skipRace.
func skipRaceTests(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the tests of %s: %v", dir, err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "skipRace" {
						names = append(names, fn.Name.Name)
						return false
					}
				}
				return true
			})
		}
	}
	return slices.Compact(names)
}
