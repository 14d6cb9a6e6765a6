package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// smallAHCDZip returns the bytes of a tiny AHCD-shaped zip.
func smallAHCDZip(t *testing.T) []byte {
	img, lbl := ahcdRows(2)
	path := filepath.Join(t.TempDir(), "a.zip")
	writeZip(t, path, map[string]string{
		"csvTrainImages 2x1024.csv": img, "csvTrainLabel 2x1.csv": lbl,
		"csvTestImages 2x1024.csv": img, "csvTestLabel 2x1.csv": lbl,
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestCatalogDownload(t *testing.T) {
	zipBytes := smallAHCDZip(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/ahcd.zip", "/bad.zip":
			w.Write(zipBytes)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cache := t.TempDir()
	cat := &Catalog{CacheDir: cache, Client: srv.Client(), Remotes: map[string][]Remote{
		"ahcd": {{Path: "ahcd/ahcd_csv.zip", URL: srv.URL + "/ahcd.zip", SHA256: sha(zipBytes)}},
	}}
	train, test, err := cat.Load(context.Background(), "ahcd")
	if err != nil {
		t.Fatalf("Load(ahcd) with download: %v", err)
	}
	if train.Len() != 2 || test.Len() != 2 || hits.Load() != 1 {
		t.Fatalf("Load(ahcd): %d and %d images after %d requests, want 2, 2, 1", train.Len(), test.Len(), hits.Load())
	}
	if _, err := os.Stat(filepath.Join(cache, "ahcd", "ahcd_csv.zip")); err != nil {
		t.Errorf("downloaded file not in the cache: %v", err)
	}
	// The second load reads the cache.
	if _, _, err := cat.Load(context.Background(), "ahcd"); err != nil || hits.Load() != 1 {
		t.Errorf("second Load: %v after %d requests, want no new request", err, hits.Load())
	}

	t.Run("checksum mismatch", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "x", "a.zip")
		err := Download(context.Background(), srv.Client(), Remote{URL: srv.URL + "/bad.zip", SHA256: strings.Repeat("0", 64)}, dst)
		if !errors.As(err, new(*ChecksumError)) || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Fatalf("Download with a wrong checksum: %v, want a *ChecksumError", err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("Download kept a file with a wrong checksum")
		}
		entries, _ := os.ReadDir(filepath.Dir(dst))
		if len(entries) != 0 {
			t.Errorf("Download left %d files behind", len(entries))
		}
	})
	t.Run("upper-case checksum", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "a.zip")
		if err := Download(context.Background(), srv.Client(), Remote{URL: srv.URL + "/ahcd.zip", SHA256: strings.ToUpper(sha(zipBytes))}, dst); err != nil {
			t.Errorf("Download with the checksum in upper case: %v", err)
		}
		// The file downloaded above, checked against the upper-case sum.
		c := &Catalog{CacheDir: cache, Remotes: map[string][]Remote{
			"ahcd": {{Path: "ahcd/ahcd_csv.zip", URL: srv.URL + "/ahcd.zip", SHA256: strings.ToUpper(sha(zipBytes))}},
		}}
		if _, _, err := c.Load(context.Background(), "ahcd"); err != nil {
			t.Errorf("Load of a file whose published checksum is in upper case: %v", err)
		}
	})
	t.Run("http error", func(t *testing.T) {
		err := Download(context.Background(), srv.Client(), Remote{URL: srv.URL + "/missing"}, filepath.Join(t.TempDir(), "a"))
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("Download(404) = %v, want an error with the status", err)
		}
	})
	t.Run("no download", func(t *testing.T) {
		c := &Catalog{Remotes: cat.Remotes}
		if _, _, err := c.Load(context.Background(), "ahcd"); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("Load without cache or client = %v, want not found", err)
		}
	})
}

func TestCatalogLookupOrder(t *testing.T) {
	zipBytes := smallAHCDZip(t)
	env, cache, explicit := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(env, "ahcd", "ahcd_csv.zip"), zipBytes)
	// The cache holds a broken copy: it is not even read.
	writeFile(t, filepath.Join(cache, "ahcd", "ahcd_csv.zip"), []byte("broken"))
	remotes := map[string][]Remote{"ahcd": {{Path: "ahcd/ahcd_csv.zip", SHA256: sha(zipBytes)}}}
	cat := &Catalog{EnvDir: env, CacheDir: cache, Remotes: remotes}
	if _, _, err := cat.Load(context.Background(), "ahcd"); err != nil {
		t.Errorf("Load with CONVNET_DATA: %v, want the environment's copy", err)
	}
	cat.EnvDir = ""
	if _, _, err := cat.Load(context.Background(), "ahcd"); !errors.As(err, new(*ChecksumError)) || !strings.Contains(err.Error(), filepath.Join(cache, "ahcd")) {
		t.Errorf("Load from the cache = %v, want the broken cached copy's checksum error", err)
	}
	cat.SkipChecksum = true
	if _, _, err := cat.Load(context.Background(), "ahcd"); err == nil || !strings.Contains(err.Error(), "not a readable zip") {
		t.Errorf("Load from the cache without checksums = %v, want the broken cached copy's error", err)
	}
	cat.SkipChecksum = false
	cat.DataDir = explicit
	if _, _, err := cat.Load(context.Background(), "ahcd"); err == nil || !strings.Contains(err.Error(), "not found in "+explicit) {
		t.Errorf("Load with an empty data dir = %v, want not found there", err)
	}
	// The data dir may be the dataset's own folder.
	cat.DataDir = filepath.Join(env, "ahcd")
	if _, _, err := cat.Load(context.Background(), "ahcd"); err != nil {
		t.Errorf("Load with the dataset folder as data dir: %v", err)
	}
	if _, _, err := cat.Load(context.Background(), "cifar"); err == nil || !strings.Contains(err.Error(), `unknown dataset "cifar" (known: ahcd, mnist)`) {
		t.Errorf("Load(cifar) = %v", err)
	}
}

func TestNamedReal(t *testing.T) {
	dir := sharedData(t)
	for _, c := range []struct {
		name        string
		train, test int
	}{{"mnist", 60000, 10000}} { // AHCD by name: the command-line tests
		train, test, err := Named(context.Background(), c.name, dir)
		if err != nil {
			t.Fatalf("Named(%s): %v", c.name, err)
		}
		if train.Len() != c.train || test.Len() != c.test {
			t.Errorf("Named(%s): %d, %d images, want %d, %d", c.name, train.Len(), test.Len(), c.train, c.test)
		}
	}
}

// TestDefaultRemotesMatchSums checks the built-in checksums against the
// shared data folder's SHA256SUMS.
func TestDefaultRemotesMatchSums(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sharedData(t), "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			sums[f[1]] = f[0]
		}
	}
	for name, files := range DefaultRemotes {
		for _, r := range files {
			if sums[r.Path] != r.SHA256 {
				t.Errorf("%s: %s has SHA-256 %s, SHA256SUMS says %q", name, r.Path, r.SHA256, sums[r.Path])
			}
		}
	}
}
