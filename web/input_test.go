package web

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// jpegWithComments returns a valid JPEG whose size comes after n bytes of
// comment segments (COM, at most 65533 bytes of text each).
func jpegWithComments(t *testing.T, n int) []byte {
	img := encodeImage(t, "jpeg", 8, 8, 255, 0)
	var b bytes.Buffer
	b.Write(img[:2]) // SOI
	for n > 0 {
		k := min(n, 65533)
		b.Write([]byte{0xff, 0xfe})
		binary.Write(&b, binary.BigEndian, uint16(k+2))
		b.WriteString(strings.Repeat("x", k))
		n -= k
	}
	b.Write(img[2:])
	return b.Bytes()
}

// TestImageHeaderBudget checks that the header of an image, read before a
// work slot is taken (and kept to be read again), is refused past 256 KiB:
// a JPEG's comments or a PGM's are not held in memory by every request
// waiting for a slot. A JPEG with 64 KiB of comments is still taken.
func TestImageHeaderBudget(t *testing.T) {
	s, err := NewServer([]Model{{"letters", classifier(t, letters(t), model.ClassifierOptions{})}}, Options{Timeout: 300 * time.Millisecond, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r := do(s, "POST", "/api/predict", "image/jpeg", jpegWithComments(t, 64<<10)); r.status != 200 {
		t.Errorf("a JPEG with 64 KiB of comments: %d %s, want 200", r.status, r.body)
	}
	s.work <- struct{}{} // every slot taken: a request reads no more than its header
	defer func() { <-s.work }()
	for _, tt := range []struct{ ctype, body string }{
		{"image/jpeg", string(jpegWithComments(t, 2<<20))},
		{"image/x-portable-graymap", "P5\n#" + strings.Repeat("x", 2<<20) + "\n8 8 255\n" + strings.Repeat("\x80", 64)},
	} {
		body := &countingReader{r: strings.NewReader(tt.body)}
		req := httptest.NewRequest("POST", "/api/predict", body)
		req.Header.Set("Content-Type", tt.ctype)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 413 || !strings.Contains(rec.Body.String(), "header takes more than 262144 bytes") || body.n > 256<<10+16<<10 {
			t.Errorf("%s with 2 MiB before its size: %d %s after reading %d bytes; want 413 after at most 272 KiB", tt.ctype, rec.Code, rec.Body, body.n)
		}
	}
}

// TestContentEncoding checks that a compressed body is refused as such
// (415 naming the coding) rather than parsed as JSON or an image, and that
// the identity coding is taken.
func TestContentEncoding(t *testing.T) {
	s := testServer(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, pixelsJSON(64, 10))
	zw.Close()
	for _, tt := range []struct {
		coding, ctype string
		body          []byte
		status        int
	}{
		{"gzip", "application/json", gz.Bytes(), 415},
		{"br", "image/png", encodeImage(t, "png", 8, 8, 255, 0), 415},
		{"identity", "application/json", []byte(pixelsJSON(64, 10)), 200},
		{"", "application/json", []byte(pixelsJSON(64, 10)), 200},
	} {
		req := httptest.NewRequest("POST", "/api/predict?model=letters", bytes.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.ctype)
		req.Header.Set("Content-Encoding", tt.coding)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.status || tt.status == 415 && !strings.Contains(rec.Body.String(), `Content-Encoding \"`+tt.coding+`\"`) {
			t.Errorf("POST %s with Content-Encoding %s: %d %s, want %d", tt.ctype, tt.coding, rec.Code, rec.Body, tt.status)
		}
	}
}
