package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/web"
)

// The metadata that convnet evaluate and training write is what convnet
// serve reads: one schema each (model.Evaluation, model.History), from the
// writer through a model file to the server's answers.
func TestMetadataWrittenThenServed(t *testing.T) {
	m := model.New(
		&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, Padding: "same", Activation: "relu"},
		&nn.Flatten{},
		&nn.Dense{Units: 3, Activation: "softmax"},
	)
	if err := m.Build([]int{4, 4, 1}, 1); err != nil {
		t.Fatal(err)
	}
	m.ClassNames = []string{"a", "b", "c"}
	hist := &model.History{Epochs: []model.EpochLogs{
		{Epoch: 0, Loss: 1.2, Accuracy: 0.4, LearningRate: 1e-3, Seconds: 1.5, ValLoss: 1.3, ValAccuracy: 0.3, HasValidation: true},
		{Epoch: 1, Loss: 0.9, Accuracy: 0.6, LearningRate: 5e-4, Seconds: 1.4, ValLoss: 1.1, ValAccuracy: 0.5, HasValidation: true},
	}}
	if err := m.SetHistory(hist); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.safetensors")
	if err := model.Save(path, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	csv := writeCSVSet(t, csvSet{Classes: 3, Size: 4, Train: 2, Test: 2})
	if code, _, stderr := runCLI("evaluate", "--model", path, "--csv", csv.Train, "--test-csv", csv.Test, "--update-model", "--out-dir", dir); code != 0 {
		t.Fatalf("evaluate --update-model: exit %d: %s", code, stderr)
	}

	stored, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stored.Evaluation()
	if err != nil || ev == nil || ev.Count != 6 || len(ev.Samples) != 6 || ev.Loss <= 0 || !reflect.DeepEqual(ev.ImageShape, []int{4, 4, 1}) {
		t.Fatalf("stored evaluation = %+v, %v; want 6 images of 4x4x1 with a loss", ev, err)
	}
	var log bytes.Buffer
	c, err := model.NewClassifier(stored, model.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.NewServer([]web.Model{{Name: "tiny", Classifier: c}}, web.Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	var served struct {
		model.Evaluation
		SampleCounts [][]int `json:"sample_counts"`
	}
	getJSON(t, ts.URL+"/api/models/tiny/evaluation", &served)
	short := *ev
	short.Samples = nil
	if !reflect.DeepEqual(served.Evaluation, short) {
		t.Errorf("served evaluation = %+v, want the stored %+v", served.Evaluation, short)
	}
	for _, sm := range ev.Samples {
		var cell struct {
			Count   int
			Samples []*model.EvaluationSample
		}
		getJSON(t, ts.URL+fmt.Sprintf("/api/models/tiny/evaluation/samples?true=%d&pred=%d", sm.True, sm.Pred), &cell)
		if cell.Count != ev.Matrix[sm.True][sm.Pred] || cell.Count != served.SampleCounts[sm.True][sm.Pred] {
			t.Errorf("cell (%d, %d): served count %d, sample count %d, stored %d", sm.True, sm.Pred, cell.Count, served.SampleCounts[sm.True][sm.Pred], ev.Matrix[sm.True][sm.Pred])
		}
		found := false
		for _, got := range cell.Samples {
			found = found || reflect.DeepEqual(got, sm)
		}
		if !found {
			t.Errorf("cell (%d, %d): the served samples %v lack the stored %+v", sm.True, sm.Pred, cell.Samples, sm)
		}
	}

	var h model.History
	getJSON(t, ts.URL+"/api/models/tiny/history", &h)
	if !reflect.DeepEqual(&h, hist) {
		t.Errorf("served history = %+v, want %+v", h, hist)
	}
	if log.Len() > 0 {
		t.Errorf("the server warned: %s", log.String())
	}
}

// The built-in models, written by earlier builds, hold metadata of the
// same schemas.
func TestBuiltinMetadata(t *testing.T) {
	for _, name := range pretrained.Names() {
		m, err := pretrained.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.ParseEvaluation(m.Meta["evaluation"], len(m.ClassNames)); err != nil {
			t.Errorf("built-in %s: evaluation: %v", name, err)
		}
		var h model.History
		if err := json.Unmarshal([]byte(m.Meta["history"]), &h); err != nil || len(h.Epochs) == 0 {
			t.Errorf("built-in %s: history of %d epochs: %v", name, len(h.Epochs), err)
		}
	}
}
