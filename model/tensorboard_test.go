package model

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestEventEncoding compares the events with the bytes that the protobuf
// code protoc generates from TensorBoard's event.proto and summary.proto
// writes for the same messages (Python, protobuf 3.21), and a record's
// checksums with TensorBoard's own masked CRC-32C
// (tensorboard/compat/tensorflow_stub/pywrap_tensorflow.py).
func TestEventEncoding(t *testing.T) {
	h := histogram{min: -0.5, max: 2, num: 3, sum: 1.5, sumSquares: 4.5, limits: []float64{0, 1e-12, 2.5}, counts: []float64{0, 1, 2}}
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"scalar", event(1.5, 3, summary(nil).scalar("x", 0.5).body), "09000000000000f83f10032a0a0a080a0178150000003f"},
		{"file version", event(1, 0, fileVersion), "09000000000000f03f1a0d627261696e2e4576656e743a32"},
		{"session start", event(2.25, 7, sessionStarted), "09000000000000024010073a020801"},
		{"keras model", event(1.5, 0, summary(nil).kerasModel("keras", []byte(`{"a": 1}`)).body),
			"09000000000000f83f2a330a310a056b65726173420e0807120042087b2261223a20317d4a180a160a1167726170685f6b657261735f6d6f64656c120131"},
		{"histogram", event(3.5, 2, summary(nil).histogram("conv/kernel/histogram", h).scalar("a", -1.25).body),
			"090000000000000c4010022a86010a7a0a15636f6e762f6b65726e656c2f686973746f6772616d2a6109000000000000e0bf1100000000000000401900000000000008402100" +
				"0000000000f83f2900000000000012403218000000000000000011ea2d819997713d00000000000004403a180000000000000000000000000000f03f00000000000000400a080a0161150000a0bf"},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	data, _ := hex.DecodeString("09000000000000f83f10032a0a0a080a0178150000003f")
	rec := appendRecord(nil, data)
	if len(rec) != 8+4+len(data)+4 || binary.LittleEndian.Uint64(rec) != uint64(len(data)) {
		t.Fatalf("record % x", rec)
	}
	if got := binary.LittleEndian.Uint32(rec[8:]); got != 0x1ef8cee7 {
		t.Errorf("the length's masked CRC %#x, want 0x1ef8cee7", got)
	}
	if got := binary.LittleEndian.Uint32(rec[12+len(data):]); got != 0x4f18de4a {
		t.Errorf("the data's masked CRC %#x, want 0x4f18de4a", got)
	}
}

// TestHistogram buckets values whose buckets are worked out by hand from
// the edges ±1e-12·1.1ᵏ and 0: a value sits in [left, right), its right edge
// is its limit, and an empty bucket comes first.
func TestHistogram(t *testing.T) {
	edges := histogramEdges()
	zero := slices.Index(edges, 0)
	if zero < 0 || edges[zero+1] != 1e-12 || edges[zero-1] != -1e-12 || edges[0] != -edges[len(edges)-1] || edges[len(edges)-1] >= 1e20 {
		t.Fatalf("edges around 0: %v, ends %v %v", edges[zero-1:zero+2], edges[0], edges[len(edges)-1])
	}
	for _, c := range []struct {
		values         []float32
		limits, counts []float64
	}{
		{[]float32{0}, []float64{0, 1e-12}, []float64{0, 1}},
		{[]float32{0, 0, float32(-1e-12)}, []float64{edges[zero-1], 0, 1e-12}, []float64{0, 1, 2}},
		{[]float32{float32(math.Inf(1))}, nil, nil}, // past the last edge: no bucket
	} {
		h := newHistogram(c.values)
		if !slices.Equal(h.limits, c.limits) || !slices.Equal(h.counts, c.counts) {
			t.Errorf("%v: limits %v counts %v, want %v %v", c.values, h.limits, h.counts, c.limits, c.counts)
		}
		if h.num != float64(len(c.values)) {
			t.Errorf("%v: num %v", c.values, h.num)
		}
	}
	h := newHistogram([]float32{-0.5, 2, 0.25})
	if h.min != -0.5 || h.max != 2 || h.sum != 1.75 || h.sumSquares != 4.3125 {
		t.Errorf("statistics %+v, want min -0.5 max 2 sum 1.75 sum of squares 4.3125", h)
	}
	var n float64
	for _, c := range h.counts {
		n += c
	}
	if n != 3 || h.limits[0] >= -0.5 || h.limits[len(h.limits)-1] <= 2 {
		t.Errorf("%v values in buckets from %v to %v", n, h.limits[0], h.limits[len(h.limits)-1])
	}
}

// tbEvent is an event read back from a file.
type tbEvent struct {
	step    int
	version string
	start   bool
	scalars map[string]float32
	histos  map[string][]byte
	graphs  map[string]string // a graph_keras_model tensor's string
}

// readEvents reads every record of the event file at path, checking its
// framing and checksums, and the fields written here of each event.
func readEvents(t *testing.T, path string) []tbEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []tbEvent
	for len(b) > 0 {
		if len(b) < 16 {
			t.Fatalf("%s: %d bytes left, not a record", path, len(b))
		}
		n := binary.LittleEndian.Uint64(b)
		if binary.LittleEndian.Uint32(b[8:]) != maskedCRC(b[:8]) || uint64(len(b)) < 16+n {
			t.Fatalf("%s: bad record header", path)
		}
		data := b[12 : 12+n]
		if binary.LittleEndian.Uint32(b[12+n:]) != maskedCRC(data) {
			t.Fatalf("%s: bad record checksum", path)
		}
		b = b[16+n:]
		ev := tbEvent{scalars: map[string]float32{}, histos: map[string][]byte{}, graphs: map[string]string{}}
		fields(t, data, func(num protowire.Number, v uint64, m []byte) {
			switch num {
			case eventStep:
				ev.step = int(v)
			case eventFileVersion:
				ev.version = string(m)
			case eventSessionLog:
				ev.start = string(m) == "\x08\x01"
			case eventSummary:
				fields(t, m, func(_ protowire.Number, _ uint64, val []byte) {
					var tag string
					var simple float32 // 0 when left out
					var histo, tensor, meta []byte
					fields(t, val, func(num protowire.Number, v uint64, m []byte) {
						switch num {
						case valueTag:
							tag = string(m)
						case valueSimpleValue:
							simple = math.Float32frombits(uint32(v))
						case valueHisto:
							histo = m
						case valueTensor:
							tensor = m
						case valueMetadata:
							meta = m
						}
					})
					switch {
					case histo != nil:
						ev.histos[tag] = histo
					case tensor != nil:
						if !strings.Contains(string(meta), "graph_keras_model") {
							t.Fatalf("tensor %s: metadata %q", tag, meta)
						}
						fields(t, tensor, func(num protowire.Number, _ uint64, m []byte) {
							if num == tensorStringVal {
								ev.graphs[tag] = string(m)
							}
						})
					default:
						ev.scalars[tag] = simple
					}
				})
			}
		})
		evs = append(evs, ev)
	}
	return evs
}

// fields calls f with each field of the message b: its number, its value
// if a number, its bytes if a length-delimited field.
func fields(t *testing.T, b []byte, f func(num protowire.Number, v uint64, m []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag in % x", b)
		}
		b = b[n:]
		var v uint64
		var m []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			v = uint64(v32)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			m, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d of type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("bad field %d", num)
		}
		b = b[n:]
		f(num, v, m)
	}
}

// runEvents returns the events of the one file in dir/run.
func runEvents(t *testing.T, dir, run string) (string, []tbEvent) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, run, "*"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "events.out.tfevents.") {
		t.Fatalf("%s: files %v, want one events.out.tfevents.*", run, files)
	}
	return files[0], readEvents(t, files[0])
}

// TestTensorBoard fits three epochs with validation and histograms every
// second epoch, and reads back what TensorBoard would: the scalars of each
// epoch as the history has them, the histograms of epochs 0 and 2 of every
// weight; then a resumed run writes files of its own that begin with a
// session start at its first epoch.
func TestTensorBoard(t *testing.T) {
	dir := t.TempDir()
	m := tinyCompiled(t)
	b := classWeightBatch()
	train := func(int, int) (Batches, error) { return &oneBatch{b: b}, nil }
	val := func() (Batches, error) { return &oneBatch{b: b}, nil }
	tb := &TensorBoard{Dir: dir, HistogramFreq: 2}
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 3, Train: train, Validation: val, Callbacks: []Callback{tb}})
	if err != nil {
		t.Fatal(err)
	}
	trainFile, evs := runEvents(t, dir, "train")
	if len(evs) != 3+3+2 || evs[0].version != "brain.Event:2" || !evs[1].start || evs[1].step != 0 {
		t.Fatalf("train: %d events (want the version, a session start at 0, the graph, 3 epochs, 2 of histograms): %+v", len(evs), evs[:2])
	}
	doc, err := m.graphDocument()
	if err != nil {
		t.Fatal(err)
	}
	if evs[2].step != 0 || evs[2].graphs["keras"] != string(doc) || len(evs[2].scalars) > 0 {
		t.Errorf("train's third event: %+v, want the graph at step 0 under the tag keras", evs[2])
	}
	var hist []int
	e := 0
	for _, ev := range evs[3:] {
		if len(ev.histos) > 0 {
			hist = append(hist, ev.step)
			if len(ev.histos) != len(m.Params()) || ev.histos["dense/kernel/histogram"] == nil {
				t.Errorf("epoch %d: histograms %d, want %d with dense/kernel/histogram", ev.step, len(ev.histos), len(m.Params()))
			}
			continue
		}
		l := h.Epochs[e]
		want := map[string]float32{"epoch_loss": float32(l.Loss), "epoch_accuracy": float32(l.Accuracy), "epoch_learning_rate": float32(l.LearningRate)}
		if ev.step != e || !maps.Equal(ev.scalars, want) {
			t.Errorf("train event at step %d: %v, want step %d %v", ev.step, ev.scalars, e, want)
		}
		e++
	}
	if !slices.Equal(hist, []int{0, 2}) {
		t.Errorf("histograms at epochs %v, want 0 and 2", hist)
	}
	last := evs[len(evs)-1]
	if hist := newHistogram(m.Params()[0].Value.Data).marshal(); string(last.histos["dense/kernel/histogram"]) != string(hist) {
		t.Error("epoch 2's histogram of dense/kernel is not that of the final weights")
	}
	_, vevs := runEvents(t, dir, "validation")
	if len(vevs) != 2+3 || !vevs[1].start {
		t.Fatalf("validation: %d events, want the version, a session start and 3 epochs", len(vevs))
	}
	for e, ev := range vevs[2:] {
		l := h.Epochs[e]
		want := map[string]float32{"epoch_loss": float32(l.ValLoss), "epoch_accuracy": float32(l.ValAccuracy)}
		if ev.step != e || !maps.Equal(ev.scalars, want) {
			t.Errorf("validation event at step %d: %v, want step %d %v", ev.step, ev.scalars, e, want)
		}
	}

	// Resumed from epoch 1 (of the history's first epoch), without
	// validation, histograms or graph: a file of its own, starting at step 1.
	_, err = m.Fit(context.Background(), FitOptions{Epochs: 3, InitialEpoch: 1, History: &History{Epochs: h.Epochs[:1]},
		Train: train, Callbacks: []Callback{&TensorBoard{Dir: dir, NoGraph: true}}})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "train", "*"))
	if len(files) != 2 {
		t.Fatalf("train files %v after a second run, want 2", files)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == trainFile })
	evs = readEvents(t, files[0])
	if len(evs) != 4 || !evs[1].start || evs[1].step != 1 || evs[2].step != 1 || evs[3].step != 2 {
		t.Errorf("the resumed run's events: %+v, want a session start at 1, epochs 1 and 2", evs)
	}
}

// TestTensorBoardDirError fails at the first epoch when the directory
// cannot be made, naming it.
func TestTensorBoardDirError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	m := tinyCompiled(t)
	b := classWeightBatch()
	_, err := m.Fit(context.Background(), FitOptions{Epochs: 1, Train: func(int, int) (Batches, error) { return &oneBatch{b: b}, nil },
		Callbacks: []Callback{&TensorBoard{Dir: file}}})
	if err == nil || !strings.Contains(err.Error(), "tensorboard") || !strings.Contains(err.Error(), file) {
		t.Errorf("Fit with a file as the log directory: %v", err)
	}
}

// TestTensorBoardDefaultDir writes to logs/train, Keras's log_dir, when
// no folder is given.
func TestTensorBoardDefaultDir(t *testing.T) {
	t.Chdir(t.TempDir())
	m := tinyCompiled(t)
	b := classWeightBatch()
	if _, err := m.Fit(context.Background(), FitOptions{Epochs: 1, Train: func(int, int) (Batches, error) { return &oneBatch{b: b}, nil },
		Callbacks: []Callback{&TensorBoard{}}}); err != nil {
		t.Fatal(err)
	}
	runEvents(t, "logs", "train")
}

// recordBatches is a BatchCallback that keeps what Fit gives it.
type recordBatches struct{ logs []BatchLogs }

func (r *recordBatches) OnBatchEnd(_ *Model, b BatchLogs) error {
	r.logs = append(r.logs, b)
	return nil
}
func (r *recordBatches) OnEpochEnd(*Model, *History) (bool, error) { return false, nil }
func (r *recordBatches) OnTrainEnd(*Model, *History) error         { return nil }

// TestTensorBoardBatches fits two epochs of 5 steps (batches of 12 and
// 6 samples) with UpdateFreq 2 and WriteStepsPerSecond: batch_loss and
// batch_accuracy at global steps 2, 4, ..., 10, the epoch's running means
// the last step's history and the progress bar end on, with
// batch_steps_per_second; each epoch's scalars with epoch_steps_per_second;
// then a run resumed in the middle of the second epoch goes on from the
// global step it stopped at.
func TestTensorBoardBatches(t *testing.T) {
	dir := t.TempDir()
	m := tinyCompiled(t)
	full, half := classWeightBatch(), classWeightBatch()
	half.X, half.Y = half.X.Slice(0, 6), half.Y.Slice(0, 6)
	train := func(_, skip int) (Batches, error) {
		return &batchList{bs: []Batch{full, half, full, half, full}[skip:]}, nil
	}
	rec := &recordBatches{}
	tb := &TensorBoard{Dir: dir, UpdateFreq: 2, WriteStepsPerSecond: true}
	h, err := m.Fit(context.Background(), FitOptions{Epochs: 2, StepsPerEpoch: 5, Train: train, Callbacks: []Callback{rec, tb}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.logs) != 10 {
		t.Fatalf("%d batch logs, want 10", len(rec.logs))
	}
	for i, b := range rec.logs {
		if b.Epoch != i/5 || b.Step != i%5+1 || b.GlobalStep != i+1 || b.Seconds <= 0 {
			t.Errorf("batch %d: %+v", i, b)
		}
	}
	for e, l := range h.Epochs {
		if b := rec.logs[5*e+4]; b.Loss != l.Loss || b.Accuracy != l.Accuracy {
			t.Errorf("epoch %d: the last step logs %g and %g, the epoch %g and %g", e, b.Loss, b.Accuracy, l.Loss, l.Accuracy)
		}
	}
	_, evs := runEvents(t, dir, "train")
	var steps []int
	e := 0
	for _, ev := range evs[3:] { // the version, the session start, the graph
		if _, ok := ev.scalars["batch_loss"]; ok {
			b := rec.logs[ev.step-1]
			steps = append(steps, ev.step)
			if len(ev.scalars) != 3 || ev.scalars["batch_loss"] != float32(b.Loss) || ev.scalars["batch_accuracy"] != float32(b.Accuracy) ||
				ev.scalars["batch_steps_per_second"] != float32(1/b.Seconds) {
				t.Errorf("step %d: %v, want the logs %+v", ev.step, ev.scalars, b)
			}
			continue
		}
		l := h.Epochs[e]
		if ev.step != e || ev.scalars["epoch_loss"] != float32(l.Loss) || len(ev.scalars) != 4 ||
			ev.scalars["epoch_steps_per_second"] != float32(5/l.Seconds) {
			t.Errorf("epoch event at step %d: %v, want epoch %d's, epoch_steps_per_second %g", ev.step, ev.scalars, e, 5/l.Seconds)
		}
		e++
	}
	if !slices.Equal(steps, []int{2, 4, 6, 8, 10}) || e != 2 {
		t.Errorf("batch scalars at steps %v and %d epochs, want 2, 4, ..., 10 and 2", steps, e)
	}

	// Resumed after step 3 of epoch 1: global steps 9 and 10 follow, the
	// session starting at epoch 1; the graph still written.
	resumed := &TensorBoard{Dir: t.TempDir(), UpdateFreq: 1}
	_, err = m.Fit(context.Background(), FitOptions{Epochs: 2, StepsPerEpoch: 5, InitialEpoch: 1, InitialStep: 3,
		History: &History{Epochs: h.Epochs[:1]}, Train: train, Callbacks: []Callback{resumed}})
	if err != nil {
		t.Fatal(err)
	}
	_, evs = runEvents(t, resumed.Dir, "train")
	if len(evs) != 6 || !evs[1].start || evs[1].step != 1 || len(evs[2].graphs) != 1 || evs[3].step != 9 || evs[4].step != 10 || evs[5].step != 1 {
		t.Errorf("the resumed run's events: %+v, want a session start at 1, the graph, steps 9 and 10, epoch 1", evs)
	}
	if _, ok := evs[3].scalars["batch_steps_per_second"]; ok {
		t.Error("batch_steps_per_second written without WriteStepsPerSecond")
	}
}
