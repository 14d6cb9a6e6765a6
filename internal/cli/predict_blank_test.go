package cli

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPredictBlank marks a blank image in the table and in JSON, and not
// as inverted, even white.
func TestPredictBlank(t *testing.T) {
	dir := t.TempDir()
	white := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	var b bytes.Buffer
	png.Encode(&b, white)
	path := filepath.Join(dir, "white.png")
	os.WriteFile(path, b.Bytes(), 0o644)
	code, stdout, stderr := runCLI("predict", "--model", "ahcd", path)
	if code != 0 || !strings.Contains(stdout, path+" (blank: every pixel alike, nothing to classify)\n") || strings.Contains(stdout, "inverted") {
		t.Errorf("predict of a white image: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI("predict", "--model", "ahcd", "--output", "json", path)
	if code != 0 || !strings.Contains(stdout, `"blank":true`) {
		t.Errorf("predict --output json of a white image: exit %d, %q", code, stdout)
	}
}
