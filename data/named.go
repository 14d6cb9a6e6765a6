package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/safefile"
)

// Remote is one file of a named dataset: its place in a data folder, the
// public URL it is downloaded from and its SHA-256.
type Remote struct {
	Path   string // relative to a data folder, with forward slashes
	URL    string
	SHA256 string // hex, in either case
	// Unpacked gives the SHA-256 of each file the published file unpacks
	// to, by name: a data folder may hold those instead (the gunzipped IDX
	// file, the CSV files extracted from the zip).
	Unpacked map[string]string
}

// DefaultRemotes lists the files of each named dataset.
var DefaultRemotes = map[string][]Remote{
	"ahcd": {{
		Path:   "ahcd/ahcd_csv.zip",
		URL:    "https://github.com/mloey/Arabic-Handwritten-Characters-Dataset/raw/master/Arabic%20Handwritten%20Characters%20Dataset%20CSV.zip",
		SHA256: "3dcf2ed8f57a5914078929a53a6302aeb1b065ffec5f0dd92b3b463a121d0161",
		Unpacked: map[string]string{
			"csvTrainImages 13440x1024.csv": "328410850804504aef3828ff81d0baa8011f6895a3bf5714a4c15edca63f0135",
			"csvTrainLabel 13440x1.csv":     "8f6cf1e4186c9a0aaaa8bc2db1d53866382d4337093279195d092fea6332e55d",
			"csvTestImages 3360x1024.csv":   "6505ed3d46e39cea39131e6592d3a6c765eeb7d843fa96a0b802807e9a365062",
			"csvTestLabel 3360x1.csv":       "df2b7b16e908306c2e2958a38bee85396cc765736fb3205a0d7923bed69af4e4",
		},
	}},
	"mnist": {
		{"mnist/train-images-idx3-ubyte.gz", mnistMirror + "train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
			map[string]string{"train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"}},
		{"mnist/train-labels-idx1-ubyte.gz", mnistMirror + "train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
			map[string]string{"train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"}},
		{"mnist/t10k-images-idx3-ubyte.gz", mnistMirror + "t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
			map[string]string{"t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"}},
		{"mnist/t10k-labels-idx1-ubyte.gz", mnistMirror + "t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
			map[string]string{"t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}},
	},
}

// mnistMirror is the public copy of MNIST that TensorFlow's datasets use.
const mnistMirror = "https://storage.googleapis.com/cvdf-datasets/mnist/"

// NamedDatasets returns the names [Named] accepts, sorted.
func NamedDatasets() []string {
	names := make([]string, 0, len(DefaultRemotes))
	for n := range DefaultRemotes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Catalog finds named datasets: in DataDir if set (and nowhere else), else
// in EnvDir, then in CacheDir, and last downloads them into CacheDir. Each
// folder is laid out like the shared data folder: <dir>/ahcd/ahcd_csv.zip
// (or the four extracted CSV files in <dir>/ahcd), <dir>/mnist/*-ubyte.gz.
// DataDir may also be the dataset's own folder.
//
// Every file is checked against its published SHA-256 before it is read,
// wherever it was found, so that only the published files are ever parsed
// unless SkipChecksum says otherwise. The sums are remembered in CacheDir,
// by path, size and modification time, so that each file is hashed once.
type Catalog struct {
	DataDir  string
	EnvDir   string
	CacheDir string // "" disables the cache and downloads
	// Client downloads missing files; nil disables downloads.
	Client  *http.Client
	Remotes map[string][]Remote // nil means DefaultRemotes
	Log     io.Writer           // download messages; nil for none
	// SkipChecksum loads files whose SHA-256 is not the published one: a
	// custom copy of a dataset. Their content is then untrusted input.
	SkipChecksum bool
	// Budget bounds the memory the data takes; nil means a new budget of
	// DefaultMemory for each load.
	Budget *Budget
}

// DefaultCatalog returns the catalog [Named] uses: dataDir, the folder named
// by the CONVNET_DATA environment variable, os.UserCacheDir()/convnet and
// downloads with http.DefaultClient, reporting to os.Stderr.
func DefaultCatalog(dataDir string) *Catalog {
	c := &Catalog{DataDir: dataDir, EnvDir: os.Getenv("CONVNET_DATA"), Client: http.DefaultClient, Log: os.Stderr}
	if dir, err := os.UserCacheDir(); err == nil {
		c.CacheDir = filepath.Join(dir, "convnet")
	}
	return c
}

// Named loads a named dataset, "ahcd" or "mnist", as [DefaultCatalog]
// finds it, downloading it on first use (see [Catalog]).
func Named(ctx context.Context, name, dataDir string) (train, test *Dataset, err error) {
	return DefaultCatalog(dataDir).Load(ctx, name)
}

// Load finds and loads a named dataset.
func (c *Catalog) Load(ctx context.Context, name string) (train, test *Dataset, err error) {
	remotes := c.Remotes
	if remotes == nil {
		remotes = DefaultRemotes
	}
	files, ok := remotes[name]
	if !ok {
		return nil, nil, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(NamedDatasets(), ", "))
	}
	if c.DataDir != "" {
		for _, dir := range []string{filepath.Join(c.DataDir, name), c.DataDir} {
			if path, ok := locate(name, dir); ok {
				return c.load(ctx, name, path, files)
			}
		}
		return nil, nil, fmt.Errorf("dataset %s not found in %s (want %s)", name, c.DataDir, filepath.Join(c.DataDir, filepath.FromSlash(files[0].Path)))
	}
	for _, dir := range []string{c.EnvDir, c.CacheDir} {
		if dir == "" {
			continue
		}
		if path, ok := locate(name, filepath.Join(dir, name)); ok {
			return c.load(ctx, name, path, files)
		}
	}
	if c.CacheDir == "" || c.Client == nil {
		return nil, nil, fmt.Errorf("dataset %s not found (set CONVNET_DATA or --data-dir to a folder holding %s)", name, files[0].Path)
	}
	for _, r := range files {
		dst := filepath.Join(c.CacheDir, filepath.FromSlash(r.Path))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if c.Log != nil {
			fmt.Fprintf(c.Log, "downloading %s to %s\n", r.URL, dst)
		}
		if err := Download(ctx, c.Client, r, dst); err != nil {
			return nil, nil, err
		}
	}
	path, ok := locate(name, filepath.Join(c.CacheDir, name))
	if !ok {
		return nil, nil, fmt.Errorf("dataset %s: downloaded files not found in %s", name, c.CacheDir)
	}
	return c.load(ctx, name, path, files)
}

// locate returns what to pass to the dataset's loader if dir holds it.
func locate(name, dir string) (string, bool) {
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	switch name {
	case "ahcd":
		if zip := filepath.Join(dir, "ahcd_csv.zip"); exists(zip) {
			return zip, true
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "csvTrainImages*.csv")); len(m) > 0 {
			return dir, true
		}
	case "mnist":
		if _, err := findIDX(dir, "train-images-idx3-ubyte"); err == nil {
			return dir, true
		}
	}
	return "", false
}

// load checks the files of a dataset found at path, then loads it.
func (c *Catalog) load(ctx context.Context, name, path string, remotes []Remote) (train, test *Dataset, err error) {
	if !c.SkipChecksum {
		if err := c.verify(ctx, name, path, remotes); err != nil {
			return nil, nil, err
		}
	}
	switch name {
	case "ahcd":
		return LoadAHCD(ctx, path, c.Budget)
	case "mnist":
		return LoadMNIST(ctx, path, c.Budget)
	}
	return nil, nil, fmt.Errorf("no loader for dataset %q", name)
}

// maxDownload bounds the size of one downloaded file.
const maxDownload = 1 << 30

// Download fetches r.URL into dst, atomically, and checks its SHA-256. On
// a mismatch or any other failure dst is not created.
func Download(ctx context.Context, client *http.Client, r Remote, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", r.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s: %s", r.URL, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return safefile.Write(dst, true, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, maxDownload+1))
		if err != nil {
			return fmt.Errorf("downloading %s: %w", r.URL, err)
		}
		if n > maxDownload {
			return fmt.Errorf("downloading %s: larger than %d bytes", r.URL, maxDownload)
		}
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, r.SHA256) { // hex, in either case
			return &ChecksumError{URL: r.URL, Got: got, Want: r.SHA256}
		}
		return nil
	})
}

// ChecksumError reports a file whose SHA-256 is not the published one: a
// download (URL set), which is not kept, or a local file (File set), which
// is not read.
type ChecksumError struct {
	URL, File, Got, Want string
}

func (e *ChecksumError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("checksum mismatch for %s: SHA-256 %s, want %s (not the published file; not read)", e.File, e.Got, e.Want)
	}
	return fmt.Sprintf("checksum mismatch for %s: SHA-256 %s, want %s (file not kept)", e.URL, e.Got, e.Want)
}
