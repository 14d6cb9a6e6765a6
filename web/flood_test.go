package web

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bombPNG returns a valid PNG of w×h 16-bit RGBA pixels, all zero: a few
// hundred kilobytes that decode to w*h*8 bytes (6400x6400: 328 MB). The
// zlib stream repeats one compressed, flushed block of rows.
func bombPNG(t testing.TB, w, h int) []byte {
	const rowsPerBlock = 64
	if h%rowsPerBlock != 0 {
		t.Fatalf("bombPNG: height %d is not a multiple of %d", h, rowsPerBlock)
	}
	var block bytes.Buffer
	z, _ := zlib.NewWriterLevel(&block, zlib.BestCompression)
	z.Write(make([]byte, rowsPerBlock*(1+8*w))) // filter byte 0, then the pixels
	z.Flush()
	head := block.Bytes()[:2] // the zlib header
	body := block.Bytes()[2:] // a byte-aligned run of deflate blocks, none final
	var idat bytes.Buffer
	idat.Write(head)
	for range h / rowsPerBlock {
		idat.Write(body)
	}
	idat.Write([]byte{3, 0}) // an empty final block with fixed codes
	n := uint32((h * (1 + 8*w)) % 65521)
	binary.Write(&idat, binary.BigEndian, n<<16|1) // Adler-32 of that many zeros
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		io.WriteString(crc, typ)
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits per sample, RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

func TestBombPNG(t *testing.T) {
	b := bombPNG(t, 640, 64*3)
	zr, err := zlib.NewReader(bytes.NewReader(b[8+8+13+4+8 : len(b)-12-4]))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != 64*3*(1+8*640) {
		t.Fatalf("bombPNG inflates to %d bytes (%v), want %d", n, err, 64*3*(1+8*640))
	}
}

// TestFlood runs the server in a child process, the convnet command built
// without the race detector as it is deployed ("convnet serve", the
// built-in models), and floods it the way a hostile client would: 16
// parallel PNGs of 6400x6400 16-bit RGBA pixels (318 KB each, 328 MB each
// decoded) and 32 parallel JSON bodies of 8 MiB, three times over. The
// child's peak resident memory (VmHWM) must stay under 300 MiB, and a
// normal request must be answered within a second all along.
func TestFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the flood builds the command and takes some seconds")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: the child's peak memory cannot be read")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no go command to build convnet, and CI is set")
		}
		t.Skip("no go command to build convnet")
	}
	exe := filepath.Join(t.TempDir(), "convnet")
	if out, err := exec.Command(goTool, "build", "-o", exe, "../cmd/convnet").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/convnet: %v\n%s", err, out)
	}
	cmd := exec.Command(exe, "serve", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	_, rest, ok := strings.Cut(line, " at http://")
	addr, _, ok2 := strings.Cut(rest, "/")
	if err != nil || !ok || !ok2 {
		t.Fatalf("convnet serve said %q (%v)", line, err)
	}
	base := "http://" + addr
	hwm := func() int {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				return kb / 1024
			}
		}
		t.Fatal("no VmHWM in /proc/PID/status")
		return 0
	}
	before := hwm()

	png := bombPNG(t, 6400, 6400)
	var js bytes.Buffer
	js.WriteString(`{"pixels":[`)
	for js.Len() < 8<<20-8 {
		js.WriteString("0,")
	}
	js.WriteString("0]}")
	normal := []byte(pixelsJSON(32*32, 0))

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 64}}
	post := func(ctype string, body []byte) (int, error) {
		resp, err := client.Post(base+"/api/predict?model=ahcd", ctype, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	var quiet time.Duration // the slowest of a few normal requests before the flood
	for range 5 {
		start := time.Now()
		if status, err := post("application/json", normal); err != nil || status != 200 {
			t.Fatalf("a normal request: status %d, %v", status, err)
		}
		quiet = max(quiet, time.Since(start))
	}
	ctx, stop := context.WithCancel(context.Background())
	var slowest time.Duration
	var normals int
	probe := make(chan error, 1)
	go func() { // a normal request every 50 ms during the flood
		defer close(probe)
		for ctx.Err() == nil {
			start := time.Now()
			status, err := post("application/json", normal)
			if err == nil && status != 200 {
				err = fmt.Errorf("status %d", status)
			}
			if err != nil {
				probe <- fmt.Errorf("a normal request during the flood: %v", err)
				return
			}
			slowest, normals = max(slowest, time.Since(start)), normals+1
			time.Sleep(50 * time.Millisecond)
		}
	}()
	statuses := map[string]int{}
	var mu sync.Mutex
	for range 3 {
		var wg sync.WaitGroup
		flood := func(ctype string, body []byte) {
			status, err := post(ctype, body)
			key := strconv.Itoa(status)
			if err != nil {
				key = "connection closed early"
			}
			mu.Lock()
			statuses[key]++
			mu.Unlock()
		}
		for range 16 {
			wg.Go(func() { flood("image/png", png) })
		}
		for range 32 {
			wg.Go(func() { flood("application/json", js.Bytes()) })
		}
		wg.Wait()
	}
	stop()
	if err := <-probe; err != nil {
		t.Error(err)
	}
	peak := hwm()
	t.Logf("flood answers %v; %d normal requests, the slowest in %v (%v before the flood); server peak RSS %d MiB (%d MiB before the flood)", statuses, normals, slowest, quiet, peak, before)
	if statuses["413"]+statuses["connection closed early"] != 3*(16+32) {
		t.Errorf("flood answers %v, want 413 (or an early close) for each of the 144 requests", statuses)
	}
	if slowest > time.Second {
		t.Errorf("a normal request took %v during the flood, want at most 1 s", slowest)
	}
	if peak >= 300 {
		t.Errorf("the server's peak resident memory reached %d MiB, want under 300 MiB", peak)
	}
}
