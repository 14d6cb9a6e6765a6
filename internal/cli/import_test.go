package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// torchImport runs a script of scripts/onnx that trains a network on MNIST
// in PyTorch and exports it to name, imports the ONNX file with the
// preprocessing of its training given by flags, and checks convnet
// predict's probabilities against PyTorch's on the script's 100 test
// images. It returns the model file, the model and the images.
func torchImport(t *testing.T, script, name string) (string, *model.Sequential, [][]float32) {
	t.Helper()
	py := python(t, "torch", "numpy")
	dir := t.TempDir()
	msg, err := exec.Command(py, filepath.Join(onnxScripts, script), filepath.Join(dataDir(t), "mnist"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, msg)
	}
	t.Logf("%s", strings.TrimSpace(string(msg)))
	classes := filepath.Join(dir, "digits.txt")
	if err := os.WriteFile(classes, []byte("zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "imported.safetensors")
	code, stdout, errs := runCLI("import", "--onnx", filepath.Join(dir, name), "--out", out, "--classes", classes,
		"--rescale", "1/255", "--mean", "0.1307", "--std", "0.3081")
	if code != 0 {
		t.Fatalf("convnet import: exit %d: %s", code, errs)
	}
	t.Logf("%s", strings.TrimSpace(stdout))
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) < 5 || m.ClassNames[3] != "three" {
		t.Errorf("imported %d layers, classes %v; want at least 5 and the names of digits.txt", len(m.Layers), m.ClassNames)
	}
	pixels, err := os.ReadFile(filepath.Join(dir, "images.u8"))
	if err != nil {
		t.Fatal(err)
	}
	var images [][]float32
	for i := 0; i+784 <= len(pixels); i += 784 {
		img := make([]float32, 784)
		for j, p := range pixels[i : i+784] {
			img[j] = float32(p)
		}
		images = append(images, img)
	}
	want := readFloats(t, filepath.Join(dir, "probs.f32"))
	var flat []float32
	for _, row := range probabilities(t, m, images) {
		flat = append(flat, row...)
	}
	var wantRows [][]float32
	for i := 0; i+10 <= len(want); i += 10 {
		wantRows = append(wantRows, want[i:i+10])
	}
	compareProbabilities(t, "convnet predict vs PyTorch", flat, wantRows, 1e-5)
	return out, m, images
}

// TestImportPyTorch imports a CNN trained in PyTorch
// (scripts/onnx/torch_cnn.py) and checks its predictions (torchImport);
// then convnet serve shows its layers, kernels and the arithmetic of its
// first layer.
func TestImportPyTorch(t *testing.T) {
	skipRace(t)
	out, m, images := torchImport(t, "torch_cnn.py", "cnn.onnx")
	base, stop := startServe(t, "--model", out)
	var models struct {
		Models []struct {
			Name   string
			Layers []struct{ Name, Type string }
		}
	}
	getJSON(t, base+"/api/models", &models)
	if len(models.Models) != 1 || len(models.Models[0].Layers) != len(m.Layers) {
		t.Fatalf("GET /api/models: %+v; want the %d layers of the imported model", models, len(m.Layers))
	}
	var kernel struct {
		Type   string
		Shape  []int
		Values []float32
	}
	getJSON(t, base+"/api/models/imported/layers/0/kernel?channel=1", &kernel)
	if kernel.Type != "Conv2D" || len(kernel.Values) != 9 || kernel.Values[4] != m.Layers[0].Params()[0].Value.Data[4*8+1] {
		t.Errorf("GET kernel of layer 0, channel 1: %+v; want the imported 3x3 kernel", kernel)
	}
	checkServedArithmetic(t, base, "imported", images[0], 1)
	if code, errs := stop(); code != exitOK {
		t.Errorf("serve: exit %d: %s", code, errs)
	}
}

// TestImportPyTorchActivations imports a CNN trained in PyTorch with GELU,
// Mish, Softsign, SELU, Softplus, ELU and Tanh (scripts/onnx/torch_smooth.py)
// and checks its predictions (torchImport): each function, GELU, Mish and
// Softsign from the several nodes PyTorch writes for them, is the
// activation of the layer before it; its nn.PReLU(16) and nn.PReLU() are
// PReLU layers with a slope per channel and one in all; its
// nn.GroupNorm(4, 16) and nn.InstanceNorm2d(16, affine=True)
// GroupNormalization layers of 4 and 16 groups.
func TestImportPyTorchActivations(t *testing.T) {
	skipRace(t)
	_, m, _ := torchImport(t, "torch_smooth.py", "smooth.onnx")
	var got []string
	for _, l := range m.Layers {
		if fn, _ := l.Config()["activation"].(string); fn != "" && fn != "linear" {
			got = append(got, fn)
		}
	}
	if want := []string{"gelu", "mish", "softsign", "elu", "selu", "softplus", "tanh"}; !slices.Equal(got, want) {
		t.Errorf("imported activations %v, want %v (layers %s)", got, want, layerTypes(m))
	}
	// nn.PReLU(16) after a convolution, nn.PReLU() after a Linear.
	var slopes []string
	for _, l := range m.Layers {
		if p, ok := l.(*nn.PReLU); ok {
			slopes = append(slopes, fmt.Sprint(p.Params()[0].Value.Shape, p.SharedAxes))
		}
	}
	if want := []string{"[1 1 16] [1 2]", "[1] [1]"}; !slices.Equal(slopes, want) {
		t.Errorf("imported PReLUs (alpha's shape, shared axes) %v, want %v (layers %s)", slopes, want, layerTypes(m))
	}
	var groups []int
	for _, l := range m.Layers {
		if g, ok := l.(*nn.GroupNormalization); ok && len(g.Params()) == 2 {
			groups = append(groups, g.GroupCount())
		}
	}
	if want := []int{4, 16}; !slices.Equal(groups, want) {
		t.Errorf("imported group normalizations with gamma and beta of %v groups, want %v (layers %s)", groups, want, layerTypes(m))
	}
}

// layerTypes lists a model's layer types for messages.
func layerTypes(m *model.Sequential) string {
	var s []string
	for _, l := range m.Layers {
		s = append(s, l.Type())
	}
	return strings.Join(s, " ")
}

// TestImportPyTorchResNet imports a residual network trained in PyTorch
// (scripts/onnx/torch_resnet.py: residual blocks, a projection shortcut,
// Concat branches, PyTorch's own padding) as a graph and checks its predictions (torchImport);
// then convnet summary shows the graph with its Connected to column.
func TestImportPyTorchResNet(t *testing.T) {
	skipRace(t)
	out, m, _ := torchImport(t, "torch_resnet.py", "resnet.onnx")
	if !m.IsGraph() {
		t.Fatalf("imported a stack of %d layers, want a graph", len(m.Layers))
	}
	count := map[string]int{}
	for _, l := range m.Layers {
		count[l.Type()]++
	}
	if count["Add"] != 2 || count["Concatenate"] != 2 || count["GlobalAveragePooling2D"] != 2 || count["ZeroPadding2D"] != 4 {
		t.Errorf("imported layers by type: %v; want 2 Add (the residual blocks), 2 Concatenate, 2 GlobalAveragePooling2D, "+
			"4 ZeroPadding2D (the stem's max pool, the strided convolution, the nn.ZeroPad2d and the average counting its padding)", count)
	}
	code, stdout, errs := runCLI("summary", "--model", out)
	if code != 0 {
		t.Fatalf("convnet summary: exit %d: %s", code, errs)
	}
	t.Logf("%s", stdout)
	// The head's Concatenate joins three vectors: its row and the two after
	// it name them in the Connected to column, one per line.
	lines := strings.Split(stdout, "\n")
	heads := 0
	for i, l := range m.Layers {
		if l.Type() != "Concatenate" || len(m.Inbound(i)) != 3 {
			continue
		}
		heads++
		at := slices.IndexFunc(lines, func(s string) bool { return strings.HasPrefix(s, l.Name()+" (Concatenate)") })
		for k, j := range m.Inbound(i) {
			if at < 0 || at+k >= len(lines) || !strings.HasSuffix(lines[at+k], " "+m.Layers[j].Name()+"[0][0]") {
				t.Errorf("convnet summary: want row %d of %s to end with its input %s[0][0]", k+1, l.Name(), m.Layers[j].Name())
			}
		}
	}
	if heads != 1 || !strings.Contains(stdout, "Connected to") {
		t.Errorf("convnet summary: %d Concatenate layers of three inputs, want 1, and a Connected to column", heads)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestImportErrors: a bad file or bad flags give a clear error, a non-zero
// exit and no output file.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.onnx")
	if code, _, errs := runCLI("export", "--model", tinyModelFile(t), "--out", good); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.onnx", b[:len(b)/2])
	text := write("text.onnx", []byte("not a model at all\n"))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"truncated", []string{"--onnx", truncated}, exitError, "not an ONNX model"},
		{"text", []string{"--onnx", text}, exitError, "onnx"},
		{"missing", []string{"--onnx", filepath.Join(dir, "none.onnx")}, exitError, "none.onnx"},
		{"classes count", []string{"--onnx", good, "--classes", write("two.txt", []byte("a\nb\n"))}, exitError, "2 class names for 3 outputs"},
		{"bad rescale", []string{"--onnx", good, "--rescale", "x"}, exitUsage, "--rescale"},
		{"bad shape", []string{"--onnx", good, "--input-shape", "8x0x1"}, exitUsage, "--input-shape"},
		{"wrong shape", []string{"--onnx", good, "--input-shape", "9x9x1"}, exitError, "input shape [9 9 1] given"},
		{"std", []string{"--onnx", good, "--std", "0,1"}, exitError, "std 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".safetensors")
			code, _, errs := runCLI(append(append([]string{"import"}, tt.args...), "--out", out)...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("convnet import %v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("convnet import %v wrote %s", tt.args, out)
			}
		})
	}
}

// TestImportTorchvision imports torchvision's resnet18, squeezenet1_1,
// googlenet, mobilenet_v2, mobilenet_v3_small, efficientnet_b0,
// regnet_y_400mf, shufflenet_v2_x0_5, mnasnet0_5 and densenet121 as
// PyTorch exports them
// (scripts/onnx/torchvision_models.py)
// and checks convnet predict's probabilities against PyTorch's: PyTorch's
// own padding (the stem's 7x7 convolution and 3x3 max pool, strided
// convolutions on even sizes, ceil_mode's partial windows) comes in as
// ZeroPadding2D layers before "valid" windows, convolutions of one group
// per channel as DepthwiseConv2D layers, squeeze-and-excitation blocks as
// GlobalAveragePooling2D (keepdims), 1x1 Conv2D and a broadcasting
// Multiply, SiLU (x times Sigmoid(x)) and Hardswish as activations,
// convolutions of several groups as Conv2D's groups, and ShuffleNet's
// channel split and shuffle as ChannelSlice and ChannelShuffle layers.
// The class activation maps of resnet18, mobilenet_v2 and convnext_tiny
// over their last block (Model.CAMLayer) are PyTorch's too.
func TestImportTorchvision(t *testing.T) {
	skipRace(t)
	py := python(t, "torch", "torchvision", "numpy")
	dir := t.TempDir()
	msg, err := exec.Command(py, filepath.Join(onnxScripts, "torchvision_models.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("torchvision_models.py: %v\n%s", err, msg)
	}
	t.Logf("%s", strings.TrimSpace(string(msg)))
	pixels, err := os.ReadFile(filepath.Join(dir, "images.u8"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 * 64 * 3
	var images [][]float32
	for i := 0; i+size <= len(pixels); i += size {
		img := make([]float32, size)
		for j, p := range pixels[i : i+size] {
			img[j] = float32(p)
		}
		images = append(images, img)
	}
	for _, name := range []string{"resnet18", "squeezenet1_1", "googlenet", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "regnet_y_400mf", "shufflenet_v2_x0_5", "mnasnet0_5", "densenet121", "convnext_tiny"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".safetensors")
			if code, _, errs := runCLI("import", "--onnx", filepath.Join(dir, name+".onnx"), "--out", out, "--rescale", "1/255"); code != 0 {
				t.Fatalf("convnet import: exit %d: %s", code, errs)
			}
			m, err := model.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]int{}
			for _, l := range m.Layers {
				types[l.Type()]++
			}
			pads := types["ZeroPadding2D"]
			// resnet18: the stem's convolution and max pool and the first
			// convolution of each of three strided blocks.
			if name == "resnet18" && pads != 5 {
				t.Errorf("%d ZeroPadding2D layers, want 5", pads)
			}
			// mobilenet_v2: one depthwise 3x3 convolution in each of its 17
			// inverted residual blocks.
			if name == "mobilenet_v2" && types["DepthwiseConv2D"] != 17 {
				t.Errorf("%d DepthwiseConv2D layers, want 17", types["DepthwiseConv2D"])
			}
			// Its 35 ReLU6 (the stem, both of the expanding blocks', the
			// first block's depthwise one, the last 1x1 convolution's)
			// fold into their convolutions.
			if name == "mobilenet_v2" {
				n := 0
				for _, l := range m.Layers {
					if fn, _ := l.Config()["activation"].(string); fn == "relu6" {
						n++
					}
				}
				if n != 35 || types["ReLU"] != 0 {
					t.Errorf("%d relu6 activations and %d ReLU layers, want 35 and 0", n, types["ReLU"])
				}
			}
			// The squeeze-and-excitation blocks: 9 in mobilenet_v3_small, 16
			// in efficientnet_b0; their Multiply layers and the activations
			// folded into the convolutions.
			acts := map[string]int{}
			for _, l := range m.Layers {
				if fn, ok := l.Config()["activation"].(string); ok {
					acts[fn]++
				}
			}
			switch name {
			case "mobilenet_v3_small":
				if types["Multiply"] != 9 || acts["hard_sigmoid"] != 9 || acts["hard_silu"] != 19 {
					t.Errorf("%d Multiply layers, %d hard_sigmoid, %d hard_silu activations; want 9, 9, 19", types["Multiply"], acts["hard_sigmoid"], acts["hard_silu"])
				}
			case "regnet_y_400mf":
				// 16 blocks, each a grouped 3x3 convolution and a
				// squeeze-and-excitation block.
				grouped := 0
				for _, l := range m.Layers {
					if c, ok := l.(*nn.Conv2D); ok && c.Groups > 1 {
						grouped++
					}
				}
				if grouped != 16 || types["Multiply"] != 16 {
					t.Errorf("%d grouped Conv2D layers, %d Multiply; want 16, 16", grouped, types["Multiply"])
				}
			case "shufflenet_v2_x0_5":
				// A channel shuffle after each of its 16 units; the 13
				// units of stride 1 split their input in two.
				if types["ChannelShuffle"] != 16 || types["ChannelSlice"] != 26 {
					t.Errorf("%d ChannelShuffle layers, %d ChannelSlice; want 16, 26", types["ChannelShuffle"], types["ChannelSlice"])
				}
			case "efficientnet_b0":
				if types["Multiply"] != 16 || acts["sigmoid"] != 16 || acts["silu"] != 49 {
					t.Errorf("%d Multiply layers, %d sigmoid, %d silu activations; want 16, 16, 49", types["Multiply"], acts["sigmoid"], acts["silu"])
				}
			case "convnext_tiny":
				// 18 blocks (3, 3, 9 and 3), each a 7x7 depthwise
				// convolution, a layer norm over the channels, two Dense
				// applied to each pixel (the first with the GELU), the
				// per-channel layer scale and the residual Add; layer
				// norms as well in the stem, the three downsampling layers
				// and the head, whose Dense reads the pooled vector.
				if types["DepthwiseConv2D"] != 18 || types["LayerNormalization"] != 23 || types["Dense"] != 37 || acts["gelu"] != 18 || types["Add"] != 18 {
					t.Errorf("%d DepthwiseConv2D, %d LayerNormalization, %d Dense layers, %d gelu activations, %d Add layers; want 18, 23, 37, 18, 18",
						types["DepthwiseConv2D"], types["LayerNormalization"], types["Dense"], acts["gelu"], types["Add"])
				}
			}
			want := readFloats(t, filepath.Join(dir, name+".f32"))
			var rows [][]float32
			for i := 0; i+10 <= len(want); i += 10 {
				rows = append(rows, want[i:i+10])
			}
			var flat []float32
			for _, row := range probabilities(t, m, images) {
				flat = append(flat, row...)
			}
			// Deep networks in float32 round differently in each program:
			// convnet may be off the float64 result by four times what
			// PyTorch's float32 is, or 1e-5.
			tol := max(1e-5, 4*float64(readFloats(t, filepath.Join(dir, name+".err"))[0]))
			compareProbabilities(t, "convnet predict vs PyTorch in float64", flat, rows, tol)
			if classes, err := os.ReadFile(filepath.Join(dir, name+".classes.f32")); err == nil && len(classes) > 0 {
				torchvisionCAMs(t, m, images, filepath.Join(dir, name))
			}
			head := "Dense"
			if strings.HasPrefix(name, "squeezenet") { // its classifier: a 1x1 convolution, ReLU, pooling
				head = "Conv2D"
			}
			transferStep(t, m, images[:2], head)
		})
	}
}
