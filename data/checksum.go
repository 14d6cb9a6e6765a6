package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
)

// verify checks each file the loader of dataset name will read at path
// against its published SHA-256, as listed in remotes.
func (c *Catalog) verify(ctx context.Context, name, at string, remotes []Remote) error {
	files, err := datasetFiles(name, at)
	if err != nil {
		return err
	}
	for _, f := range files {
		want := publishedSum(remotes, f.published)
		if want == "" {
			return fmt.Errorf("%s: no published checksum for %s", f.path, f.published)
		}
		got, err := c.sum(ctx, f.path)
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, want) { // hex, in either case
			return &ChecksumError{File: f.path, Got: got, Want: want}
		}
	}
	return nil
}

// datasetFile is a file a dataset's loader reads and the name of the
// published file it stands for.
type datasetFile struct{ path, published string }

// datasetFiles returns the files the loader of dataset name reads at path.
func datasetFiles(name, at string) ([]datasetFile, error) {
	var files []datasetFile
	switch name {
	case "ahcd":
		info, err := os.Stat(at)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			return []datasetFile{{at, "ahcd_csv.zip"}}, nil
		}
		paths, err := ahcdFiles(at)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			files = append(files, datasetFile{p, ahcdPublished[i]})
		}
	case "mnist":
		paths, err := mnistFiles(at)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			published := mnistStems[i]
			if strings.HasSuffix(p, ".gz") {
				published += ".gz"
			}
			files = append(files, datasetFile{p, published})
		}
	default:
		return nil, fmt.Errorf("no files known for dataset %q", name)
	}
	return files, nil
}

// publishedSum returns the SHA-256 of the published file of that name, or
// of the file a published file unpacks to, or "" if there is none.
func publishedSum(remotes []Remote, name string) string {
	for _, r := range remotes {
		if path.Base(r.Path) == name {
			return r.SHA256
		}
		if sum, ok := r.Unpacked[name]; ok {
			return sum
		}
	}
	return ""
}

// sumsFile is the file in the cache folder that remembers the SHA-256 of
// the files verified, by absolute path.
const sumsFile = "sha256-cache.json"

// maxSumsFile bounds the size of the remembered sums read back.
const maxSumsFile = 1 << 20

// knownSum is the SHA-256 of a file as it was when hashed.
type knownSum struct {
	Size     int64  `json:"size"`
	Modified int64  `json:"modified"` // Unix nanoseconds
	SHA256   string `json:"sha256"`
}

// sum returns the SHA-256 of the file at p, hashing it only if the cache
// does not hold the sum of a file of that path, size and modification time.
func (c *Catalog) sum(ctx context.Context, p string) (string, error) {
	f, err := safefile.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	sums := c.readSums()
	if k, ok := sums[abs]; ok && k.Size == info.Size() && k.Modified == info.ModTime().UnixNano() {
		return k.SHA256, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", readErr(p, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if c.CacheDir != "" {
		if sums == nil {
			sums = map[string]knownSum{}
		}
		sums[abs] = knownSum{Size: info.Size(), Modified: info.ModTime().UnixNano(), SHA256: got}
		if b, err := json.MarshalIndent(sums, "", "  "); err == nil && os.MkdirAll(c.CacheDir, 0o755) == nil {
			safefile.WriteBytes(filepath.Join(c.CacheDir, sumsFile), true, b) // a cache: failing to write it is no error
		}
	}
	return got, nil
}

// readSums returns the remembered sums; nil if there are none.
func (c *Catalog) readSums() map[string]knownSum {
	if c.CacheDir == "" {
		return nil
	}
	f, err := safefile.Open(filepath.Join(c.CacheDir, sumsFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	var sums map[string]knownSum
	dec := json.NewDecoder(io.LimitReader(f, maxSumsFile))
	if err := dec.Decode(&sums); err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	return sums
}
