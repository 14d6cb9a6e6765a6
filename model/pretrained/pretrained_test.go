package pretrained

import (
	"encoding/json"
	"flag"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

var updateMeta = flag.Bool("update-meta", false, "write the framing and loss metadata into the built-in model files")

// The built-in models were trained before training recorded the framing of
// the training images and the loss; their files were given both, from
// what their commands (README.md) used, by this test with -update-meta.
func TestMetadata(t *testing.T) {
	loss, err := json.Marshal(nn.CrossEntropy{LabelSmoothing: 0.1}.Config()) // the strong recipe's
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		m, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := data.NamedFraming(m.Meta["dataset"])
		if !ok {
			t.Fatalf("%s: trained on %q, which has no named framing", name, m.Meta["dataset"])
		}
		if *updateMeta {
			m.Meta["loss"] = string(loss)
			if err := m.SetFraming(want); err != nil {
				t.Fatal(err)
			}
			if err := model.Save(name+ext, m, model.SaveOptions{Overwrite: true}); err != nil {
				t.Fatal(err)
			}
			if m, err = model.Load(name + ext); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := m.Meta["framing"]; !ok {
			t.Errorf("%s has no framing metadata (run with -update-meta)", name)
		}
		if got, err := m.Framing(); err != nil || got != want {
			t.Errorf("%s: framing %+v, %v; want %+v", name, got, err, want)
		}
		if m.Meta["loss"] != string(loss) {
			t.Errorf("%s: loss %s, want %s", name, m.Meta["loss"], loss)
		}
	}
}
