package cli

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/model"
)

// tbEvents is what scripts/tensorboard/read.py prints: the events of each
// run folder's files, read with TensorBoard's message definitions, and the
// histograms PyTorch's SummaryWriter makes of given values.
type tbEvents struct {
	Runs map[string][]struct {
		File   string `json:"file"`
		Events []struct {
			Step        int                    `json:"step"`
			WallTime    float64                `json:"wall_time"`
			FileVersion string                 `json:"file_version"`
			SessionLog  string                 `json:"session_log"`
			Scalars     map[string]float64     `json:"scalars"`
			Histograms  map[string]tbHistogram `json:"histograms"`
			Graphs      map[string][]tbNode    `json:"graphs"`
			Images      map[string]tbImages    `json:"images"`
		} `json:"events"`
	} `json:"runs"`
	Torch map[string]tbHistogram `json:"torch"`
}

// tbNode is a node of the graph TensorBoard draws from a Keras model's
// summary.
type tbNode struct {
	Name, Class, Dtype string
	Inputs             []string
}

// tbImages is an image summary: the images' size and the first of them,
// decoded (PIL's mode, its bytes).
type tbImages struct {
	Width, Height int
	Images        []struct {
		Mode   string
		Pixels []int
	}
}

type tbHistogram struct {
	Min, Max, Num, Sum float64
	SumSquares         float64   `json:"sum_squares"`
	BucketLimit        []float64 `json:"bucket_limit"`
	Bucket             []float64 `json:"bucket"`
}

// readTensorBoard runs scripts/tensorboard/read.py on dir, with the values
// of each tag to histogram as PyTorch does (nil: none).
func readTensorBoard(t *testing.T, dir string, values map[string][]float32) tbEvents {
	t.Helper()
	py := python(t, "numpy", "google.protobuf")
	if _, err := exec.LookPath("protoc"); err != nil {
		missingRuntime(t, "protoc", err)
	}
	args := []string{"../../scripts/tensorboard/read.py", dir}
	if values != nil {
		vf := filepath.Join(t.TempDir(), "values.json")
		b, _ := json.Marshal(values)
		if err := os.WriteFile(vf, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, vf)
	}
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("read.py: %v\n%s", err, stderr)
	}
	var ev tbEvents
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestTrainTensorBoard trains on AHCD with --tensorboard and a histogram of
// every weight each epoch, and reads the event files with TensorBoard's own
// message definitions (checkEvents). A run interrupted in its third epoch and resumed adds a file
// that starts its session at that epoch, so that TensorBoard drops what the
// interrupted run logged from there, and holds the graph again.
func TestTrainTensorBoard(t *testing.T) {
	skipRace(t)
	dir := t.TempDir()
	logs, out := filepath.Join(dir, "logs"), filepath.Join(dir, "m.safetensors")
	args := func(out string, extra ...string) []string {
		return append([]string{"train", "--data-dir", dataDir(t), "--model", "tutorial", "--limit", "400", "--epochs", "3",
			"--batch-size", "50", "--validation-split", "0.25", "--seed", "5", "--no-evaluate", "--out", out}, extra...)
	}
	code, stdout, stderr := runCLI(args(out, "--tensorboard", logs, "--tensorboard-histogram-freq", "1", "--tensorboard-write-images", "--csv-log", filepath.Join(dir, "log.csv"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "TensorBoard's event files in "+logs+": tensorboard --logdir "+logs+"\n") {
		t.Errorf("stdout does not say where the event files are: %q", stdout)
	}
	checkEvents(t, logs, load(t, out), filepath.Join(dir, "log.csv"), "learning_rate", 3)

	// Interrupted in its third epoch, then resumed.
	split := filepath.Join(dir, "split.safetensors")
	ckpt := interruptedRun(t, args(split, "--tensorboard", filepath.Join(dir, "split-logs")), 2, 1)
	if code, _, stderr := runCLI("train", "--resume", ckpt); code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	ev := readTensorBoard(t, filepath.Join(dir, "split-logs"), nil)
	files := ev.Runs["train"]
	if len(files) != 2 {
		t.Fatalf("train: %d files after a resumed run, want 2", len(files))
	}
	first, second := files[0].Events, files[1].Events
	if first[len(first)-1].Step != 1 || second[1].SessionLog != "START" || second[1].Step != 2 || len(second) != 4 || second[3].Step != 2 {
		t.Errorf("the interrupted run logged up to step %d; the resumed one: %+v, want a session start at step 2, the graph and epoch 2", first[len(first)-1].Step, second)
	}
	checkGraph(t, second[2].Step, second[2].Graphs, load(t, split)) // each run writes it, as each Keras fit does
}

// checkEvents reads the event files under logs of a run of epochs epochs
// with validation, --csv-log csvLog (whose learning rate is the column lr)
// and a histogram and images of every weight at every epoch
// (--tensorboard-write-images): a file per run folder,
// TensorBoard's version, a session start, the graph (checkGraph), each
// epoch's scalars as the CSV log has them, and the last epoch's histograms of m's weights exactly as
// PyTorch's SummaryWriter.add_histogram makes them (its make_histogram run
// on the same values), and its images (checkImages).
func checkEvents(t *testing.T, logs string, m *model.Sequential, csvLog, lr string, epochs int) {
	t.Helper()
	values := map[string][]float32{}
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			values[l.Name()+"/"+p.Name+"/histogram"] = p.Value.Data
		}
	}
	ev := readTensorBoard(t, logs, values)
	if len(ev.Runs) != 2 || len(ev.Runs["train"]) != 1 || len(ev.Runs["validation"]) != 1 {
		t.Fatalf("runs %v, want one file in train and one in validation", ev.Runs)
	}
	f, err := os.Open(csvLog)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != epochs+1 {
		t.Fatalf("%s: %v, %d rows", csvLog, err, len(rows))
	}
	logged := func(epoch int, name string) float64 {
		v, err := strconv.ParseFloat(rows[epoch+1][slices.Index(rows[0], name)], 64)
		if err != nil {
			t.Fatal(err)
		}
		return float64(float32(v))
	}
	tags := map[string]string{"loss": "epoch_loss", "accuracy": "epoch_accuracy", lr: "epoch_learning_rate", "val_loss": "epoch_loss", "val_accuracy": "epoch_accuracy"}
	for run, names := range map[string][]string{"train": {"loss", "accuracy", lr}, "validation": {"val_loss", "val_accuracy"}} {
		evs := ev.Runs[run][0].Events
		if evs[0].FileVersion != "brain.Event:2" || evs[1].SessionLog != "START" || evs[1].Step != 0 {
			t.Fatalf("%s: first events %+v, want the file version and a session start at step 0", run, evs[:2])
		}
		epoch := 0
		for _, e := range evs[2:] {
			_, batch := e.Scalars["batch_loss"]
			if len(e.Histograms) > 0 || len(e.Graphs) > 0 || batch { // see checkBatchEvents
				continue
			}
			_, perSecond := e.Scalars["epoch_steps_per_second"]
			if perSecond && run == "train" {
				delete(e.Scalars, "epoch_steps_per_second")
			}
			if e.Step != epoch || len(e.Scalars) != len(names) {
				t.Fatalf("%s: event at step %d with %v, want epoch %d's %v", run, e.Step, e.Scalars, epoch, names)
			}
			for _, n := range names {
				if got, want := e.Scalars[tags[n]], logged(epoch, n); got != want {
					t.Errorf("%s epoch %d: %s %v, want %v (%s's %s)", run, epoch, tags[n], got, want, filepath.Base(csvLog), n)
				}
			}
			epoch++
		}
		if epoch != epochs {
			t.Errorf("%s: %d epochs of scalars, want %d", run, epoch, epochs)
		}
	}

	evs := ev.Runs["train"][0].Events
	checkGraph(t, evs[2].Step, evs[2].Graphs, m)
	var steps []int
	for _, e := range evs {
		if len(e.Histograms) > 0 {
			steps = append(steps, e.Step)
		}
	}
	last := evs[len(evs)-1]
	if len(steps) != epochs || steps[epochs-1] != epochs-1 || len(last.Histograms) != len(values) {
		t.Fatalf("histograms at steps %v, %d in the last (want every epoch's and %d)", steps, len(last.Histograms), len(values))
	}
	for tag, want := range ev.Torch {
		got := last.Histograms[tag]
		if !slices.Equal(got.BucketLimit, want.BucketLimit) || !slices.Equal(got.Bucket, want.Bucket) ||
			got.Min != want.Min || got.Max != want.Max || got.Num != want.Num ||
			math.Abs(got.Sum-want.Sum) > 1e-9*(1+math.Abs(want.Sum)) || math.Abs(got.SumSquares-want.SumSquares) > 1e-9*want.SumSquares {
			t.Errorf("%s: %+v\nPyTorch's: %+v", tag, got, want)
		}
	}
	checkImages(t, last.Images, m)
	lo, hi := math.MaxInt, 0
	for _, h := range ev.Torch {
		lo, hi = min(lo, len(h.Bucket)), max(hi, len(h.Bucket))
	}
	t.Logf("%d histograms of %d to %d buckets, equal to PyTorch's", len(ev.Torch), lo, hi)
}

// checkBatchEvents checks the batch scalars of a run with
// --tensorboard-update-freq batch and --tensorboard-write-steps-per-second
// in the train folder logs: batch_loss, batch_accuracy and
// batch_steps_per_second at every step counted over the run, 1, 2, ...;
// each epoch's last equal to the epoch's loss and accuracy (the running
// means end on them), which come with epoch_steps_per_second.
func checkBatchEvents(t *testing.T, logs string, epochs int) {
	t.Helper()
	var batches, ends []map[string]float64
	for _, e := range readTensorBoard(t, logs, nil).Runs["train"][0].Events {
		switch {
		case e.Scalars["batch_loss"] != 0:
			if e.Step != len(batches)+1 || len(e.Scalars) != 3 || e.Scalars["batch_steps_per_second"] <= 0 {
				t.Fatalf("batch event at step %d: %v, want step %d's three scalars", e.Step, e.Scalars, len(batches)+1)
			}
			batches = append(batches, e.Scalars)
		case e.Scalars["epoch_loss"] != 0:
			if e.Scalars["epoch_steps_per_second"] <= 0 {
				t.Errorf("epoch %d: %v, want epoch_steps_per_second", e.Step, e.Scalars)
			}
			ends = append(ends, e.Scalars)
		}
	}
	if len(ends) != epochs || len(batches) == 0 || len(batches)%epochs != 0 {
		t.Fatalf("%d batch events over %d epochs, want the same number in each of %d", len(batches), len(ends), epochs)
	}
	per := len(batches) / epochs
	for e, end := range ends {
		last := batches[(e+1)*per-1]
		if last["batch_loss"] != end["epoch_loss"] || last["batch_accuracy"] != end["epoch_accuracy"] {
			t.Errorf("epoch %d: the last step's batch_loss %v and batch_accuracy %v, the epoch's %v and %v",
				e, last["batch_loss"], last["batch_accuracy"], end["epoch_loss"], end["epoch_accuracy"])
		}
	}
}

// checkGraph checks the graph of a train run's third event, as TensorBoard's
// graph plugin draws it from the model's summary: at step 0, a node for the
// input and for each of m's layers, in order, of its Keras class, whose
// inputs are the layers it is called on, all in the model's scope.
func checkGraph(t *testing.T, step int, graphs map[string][]tbNode, m *model.Sequential) {
	t.Helper()
	nodes := graphs["keras"]
	if step != 0 || len(graphs) != 1 || len(nodes) != len(m.Layers)+1 {
		t.Fatalf("graphs %v at step %d, want the tag keras of %d nodes at 0", graphs, step, len(m.Layers)+1)
	}
	scope, _, _ := strings.Cut(nodes[0].Name, "/")
	name := func(i int) string { // Layers[i], or the input for -1
		if i < 0 {
			return scope + "/" + m.InputName()
		}
		return scope + "/" + m.Layers[i].Name()
	}
	if nodes[0].Name != name(-1) || nodes[0].Class != "InputLayer" || len(nodes[0].Inputs) != 0 {
		t.Errorf("the first node %+v, want the input %s", nodes[0], name(-1))
	}
	for i, l := range m.Layers {
		var inputs []string
		for _, j := range m.Inbound(i) {
			inputs = append(inputs, name(j))
		}
		if n := nodes[i+1]; n.Name != name(i) || n.Class != l.Type() || n.Dtype != "DT_FLOAT" || !slices.Equal(n.Inputs, inputs) {
			t.Errorf("node %d: %+v, want %s (%s) on %v", i+1, n, name(i), l.Type(), inputs)
		}
	}
}

// TestTrainTensorBoardErrors refuses a histogram frequency without event
// files or below 0, images without histograms, batch figures or steps per
// second without event files, an update frequency that is not one, and a
// file in place of the log folder before training starts.
func TestTrainTensorBoardErrors(t *testing.T) {
	f := writeCSVSet(t, smallSet)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tensorboard-histogram-freq", "2"}, 2, "without --tensorboard there are no event files"},
		{[]string{"--tensorboard", dir, "--tensorboard-histogram-freq", "-1"}, 2, "--tensorboard-histogram-freq -1: want a number of epochs"},
		{[]string{"--tensorboard", dir, "--tensorboard-write-images"}, 2, "--tensorboard-write-images: the weights are drawn with their histograms, as Keras's write_images: give --tensorboard-histogram-freq N too"},
		{[]string{"--tensorboard", file}, 1, "--tensorboard " + file + ": cannot make the folder"},
		{[]string{"--tensorboard", dir, "--lr-find"}, 2, "not with --checkpoint, --csv-log, --tensorboard"},
		{[]string{"--tensorboard-update-freq", "batch"}, 2, "--tensorboard-update-freq 1: without --tensorboard there are no event files"},
		{[]string{"--tensorboard-write-steps-per-second"}, 2, "--tensorboard-write-steps-per-second: without --tensorboard there are no event files"},
		{[]string{"--tensorboard", dir, "--tensorboard-update-freq", "0"}, 2, "want epoch, batch or a number of training steps (at least 1)"},
		{[]string{"--tensorboard", dir, "--tensorboard-update-freq", "often"}, 2, "want epoch, batch or a number of training steps (at least 1)"},
	} {
		code, _, stderr := runCLI(append(trainArgs(t, f, filepath.Join(dir, "m.safetensors")), c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %s\nwant %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if strings.Contains(stderr, "Epoch 1/") {
			t.Errorf("%v: training started before the error", c.args)
		}
	}
}

// checkImages checks the images of m's weights at the last epoch of a run
// with --tensorboard-write-images, as Keras's write_images draws them: the
// weights of one to three axes other than 1 (the models here have no
// others that Keras draws), a vector as a column, a matrix as an image,
// transposed when taller than wide, three axes as an image of the first two
// for each of the first three indices of the third; each value v the grey
// level v·255.5 clipped to 0..255 and truncated.
func checkImages(t *testing.T, images map[string]tbImages, m *model.Sequential) {
	t.Helper()
	if len(images) == 0 {
		t.Fatal("no images of the weights")
	}
	drawn := 0
	for _, l := range m.Layers {
		for _, p := range l.Params() {
			tag := l.Name() + "/" + p.Name + "/image"
			var dims []int
			for _, d := range p.Value.Shape {
				if d != 1 {
					dims = append(dims, d)
				}
			}
			got, ok := images[tag]
			if want := len(dims) >= 1 && len(dims) <= 3; ok != want {
				t.Errorf("%s of shape %v: drawn %v, want %v", tag, p.Value.Shape, ok, want)
			}
			if !ok {
				continue
			}
			drawn++
			n, h, w := 1, dims[0], 1
			at := func(_, y, _ int) int { return y }
			switch {
			case len(dims) == 2 && dims[0] <= dims[1]:
				h, w = dims[0], dims[1]
				at = func(_, y, x int) int { return y*w + x }
			case len(dims) == 2:
				h, w = dims[1], dims[0]
				at = func(_, y, x int) int { return x*h + y }
			case len(dims) == 3:
				n, h, w = dims[2], dims[0], dims[1]
				at = func(k, y, x int) int { return (y*w+x)*n + k }
			}
			if got.Width != w || got.Height != h || len(got.Images) != min(n, 3) {
				t.Errorf("%s of shape %v: %d images of %dx%d, want %d of %dx%d", tag, p.Value.Shape, len(got.Images), got.Height, got.Width, min(n, 3), h, w)
				continue
			}
			for k, img := range got.Images {
				if img.Mode != "L" || len(img.Pixels) != h*w {
					t.Errorf("%s: image %d of mode %s, %d pixels; want L, %d", tag, k, img.Mode, len(img.Pixels), h*w)
					continue
				}
				for y := range h {
					for x := range w {
						v := p.Value.Data[at(k, y, x)]
						if want := int(min(max(v*255.5, 0), 255)); img.Pixels[y*w+x] != want {
							t.Fatalf("%s: image %d pixel (%d, %d) %d, want %d (the value %v)", tag, k, y, x, img.Pixels[y*w+x], want, v)
						}
					}
				}
			}
		}
	}
	t.Logf("%d weights drawn as images", drawn)
}
