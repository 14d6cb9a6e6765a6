package cli

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestEvaluateMap evaluates the built-in AHCD model on 300 test images
// with --map: the map is written beside the other PNGs, 900 pixels square,
// and named in the JSON; without --map there is none.
func TestEvaluateMap(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	code, stdout, stderr := runCLI("evaluate", "--model", "ahcd", "--data-dir", dataDir(t), "--test-limit", "300", "--out-dir", dir, "--map", "--json")
	if code != 0 {
		t.Fatalf("evaluate --map: exit %d: %s", code, stderr)
	}
	var ev struct {
		Count  int    `json:"count"`
		MapPNG string `json:"map_png"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "ahcd.map.png"); ev.MapPNG != want || ev.Count != 300 {
		t.Fatalf("map_png %q of %d images, want %q of 300", ev.MapPNG, ev.Count, want)
	}
	f, err := os.Open(ev.MapPNG)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 900 || img.Bounds().Dy() != 900 {
		t.Fatalf("the map: %v, %v; want a 900x900 PNG", err, img.Bounds())
	}
	other := filepath.Join(t.TempDir(), "made", "here") // --out-dir is made if missing
	var without struct {
		MapPNG *string `json:"map_png"`
	}
	if code, stdout, _ := runCLI("evaluate", "--model", "ahcd", "--data-dir", dataDir(t), "--test-limit", "300", "--out-dir", other, "--json"); code != 0 || json.Unmarshal([]byte(stdout), &without) != nil || without.MapPNG != nil {
		t.Errorf("evaluate without --map: exit %d, map_png %v", code, without.MapPNG)
	}
	if _, err := os.Stat(filepath.Join(other, "ahcd.map.png")); err == nil {
		t.Error("evaluate without --map wrote a map")
	}
	if _, err := os.Stat(filepath.Join(other, "ahcd.confusion.png")); err != nil {
		t.Errorf("the confusion heatmap in a new --out-dir: %v", err)
	}
}
