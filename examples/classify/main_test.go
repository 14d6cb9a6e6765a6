package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
)

// TestClassify runs the example on real AHCD test images written as PNGs (a
// dark letter on white paper, as a photo would be) and checks that it
// names the right letter first.
func TestClassify(t *testing.T) {
	dir := os.Getenv("CONVNET_DATA")
	if dir == "" {
		t.Skip("CONVNET_DATA is not set: the AHCD test images are needed")
	}
	_, test, err := data.Named(context.Background(), "ahcd", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{7, 1234, 3000} {
		img := image.NewGray(image.Rect(0, 0, 32, 32))
		for j, v := range test.Image(i) {
			img.Pix[j] = 255 - uint8(v)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		path := filepath.Join(t.TempDir(), "letter.png")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out := run(t, path)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		want := test.ClassNames[test.Y[i]]
		if len(lines) != 3 || !strings.HasPrefix(lines[0], want+" ") || !strings.HasSuffix(lines[0], "%") {
			t.Errorf("test image %d (%s): the example prints\n%s\nwant %s first, then two more classes", i, want, out, want)
		}
	}
}

// run runs main with the given argument and returns what it prints.
func run(t *testing.T, arg string) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, args := os.Stdout, os.Args
	os.Stdout, os.Args = w, []string{"classify", arg}
	defer func() { os.Stdout, os.Args = stdout, args }()
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	main()
	w.Close()
	return <-done
}

// TestREADME checks that the README's library section shows this
// example's main function as it is.
func TestREADME(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "func main() {\n")+len("func main() {\n"):]
	body = body[:strings.Index(body, "\n}\n")+1]
	body = strings.ReplaceAll(strings.TrimPrefix(body, "\t"), "\n\t", "\n")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "(examples/classify/main.go)")
	_, block, ok2 := strings.Cut(after, "```go\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```go block after its link to examples/classify/main.go")
	}
	if block != body {
		t.Errorf("README.md shows\n%s\nbut examples/classify/main.go's main is\n%s", block, body)
	}
}
