package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// Hostile models: a model file of a few hundred bytes can declare an input
// of 8192x8192 pixels, a gigabyte of activations per image. Each case runs
// the convnet command in a child process (the child and its checks of
// hostile_data_test.go) and checks that it ends with a clear error within
// 5 s and 300 MiB of peak resident memory.

// hostileModel saves a model of the given layers built for input; building
// allocates the weights only, which are few.
func hostileModel(t *testing.T, name string, input []int, layers ...nn.Layer) string {
	t.Helper()
	m := model.New(layers...)
	if err := m.Build(input, 1); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := model.Save(path, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("%s: %d bytes, input %v", name, st.Size(), input)
	return path
}

// commandEnv makes a run of the test binary the convnet command.
const commandEnv = "CONVNET_TEST_COMMAND"

// TestCommandChild is the convnet command in a child process: this test
// binary run again with commandEnv set runs Main on the arguments after
// "--" and exits. Running it costs no build, and its memory is the
// command's, plus the race detector's in a -race run (about 20 MiB here).
func TestCommandChild(t *testing.T) {
	i := slices.Index(os.Args, "--")
	if os.Getenv(commandEnv) != "1" || i < 0 {
		t.Skip("the convnet command of TestHostileModels, in a child process")
	}
	os.Exit(Main(os.Args[i+1:], os.Stdout, os.Stderr))
}

// startCommand runs convnet with args in a child process, the test binary.
func startCommand(t *testing.T, args ...string) *child {
	t.Helper()
	t.Setenv(commandEnv, "1")
	return startChild(t, os.Args[0], t.TempDir(), nil, append([]string{"-test.run=^TestCommandChild$", "--"}, args...)...)
}

func TestHostileModels(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	png := filepath.Join(t.TempDir(), "digit.png")
	writeGrayPNG(t, png, make([]float32, 64), 8, 8)

	// predict on one small image, with a model whose input is 8192x8192x1.
	t.Run("predict", func(t *testing.T) {
		path := hostileModel(t, "wide.safetensors", []int{8192, 8192, 1},
			&nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
		c := startCommand(t, "predict", "--model", path, png)
		c.wait(t, 5*time.Second)
		c.checkFails(t, path+": the model needs 1.0 GiB to run on one sample of shape [8192 8192 1], more than the limit of 512 MiB", "--max-memory")
	})

	// serve a model of about a kilobyte whose input is 2048x2048x1 and
	// whose convolution makes 16 feature maps of that size. If the server
	// starts, ask it for a prediction and for the activations with a
	// saliency map, as the demo page does at each stroke.
	t.Run("serve", func(t *testing.T) {
		path := hostileModel(t, "large.safetensors", []int{2048, 2048, 1},
			&nn.Conv2D{Filters: 16, KernelSize: [2]int{2, 2}, Padding: "same", Activation: "relu"},
			&nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
		body, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		c := startCommand(t, "serve", "--model", path, "--addr", addr)
		ctx, cancel := context.WithDeadline(context.Background(), c.start.Add(5*time.Second))
		answered := make(chan bool, 1)
		go func() { answered <- askServer(ctx, t, "http://"+addr, body) }()
		c.wait(t, 5*time.Second)
		cancel()
		if <-answered {
			t.Errorf("serve accepted the model and answered")
		}
		c.checkFails(t, path+": the model needs 1.1 GiB to run on one sample of shape [2048 2048 1], more than the limit of 512 MiB", "--max-memory")
	})

	// summarise an architecture document of about 2 KB whose 30 dense
	// layers of 16384 units would take 30 GiB of weights, each kernel
	// within the bound on a single tensor (2^28 values): the first layer,
	// kernel and biases together, passes the bound on the whole model.
	t.Run("architecture", func(t *testing.T) {
		dense := `, {"class_name": "Dense", "config": {"units": 16384}}`
		doc := `{"input_shape": [128, 128, 1], "layers": [{"class_name": "Flatten", "config": {}}` + strings.Repeat(dense, 30) + `]}`
		path := filepath.Join(t.TempDir(), "heavy.json")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		c := startCommand(t, "summary", "--model", path)
		c.wait(t, 5*time.Second)
		c.checkFails(t, path+": layer 2: dense (Dense) would bring the model's weights to 268451840 values, more than the limit of 268435456 (1 GiB of float32)")
	})
}

// freeAddr returns a local address no one listens on, for a child to take.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// askServer waits until ctx ends for a server at base and, if one answers,
// asks it for a prediction and for the activations of image body. It
// reports whether the server answered.
func askServer(ctx context.Context, t *testing.T, base string, body []byte) bool {
	for {
		r, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/models", nil)
		resp, err := http.DefaultClient.Do(r)
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, req := range []string{"/api/predict?model=large", "/api/activations?model=large&saliency=1&full=0"} {
		r, _ := http.NewRequestWithContext(ctx, "POST", base+req, bytes.NewReader(body))
		r.Header.Set("Content-Type", "image/png")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Logf("POST %s: %v", req, err)
			continue
		}
		resp.Body.Close()
		t.Logf("POST %s: status %d", req, resp.StatusCode)
	}
	return true
}
