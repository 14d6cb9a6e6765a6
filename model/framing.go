package model

import (
	"encoding/json"
	"fmt"

	"github.com/convnet-go/convnet/data"
)

// framingKey is the metadata key of a model's framing.
const framingKey = "framing"

// SetFraming stores f, the framing of the model's training images (see
// [data.MeasureFraming]), in m.Meta["framing"] as JSON: a [Classifier]
// frames the images it is given the same way.
func (m *Model) SetFraming(f data.Framing) error {
	if err := f.Check(); err != nil {
		return err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta[framingKey] = string(b)
	return nil
}

// framingJSON returns, for the formats that carry it, the framing the
// model's classifier applies (see Framing), as JSON; "" for a model that
// does not take images.
func (m *Model) framingJSON() (string, error) {
	if len(m.InputShape()) != 3 {
		return "", nil
	}
	f, err := m.Framing()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(f)
	return string(b), err
}

// setFramingJSON stores the framing another format carries for the model,
// the JSON SetFraming writes, once it is found to fit the model's input;
// "" and null carry none.
func (m *Model) setFramingJSON(s string) error {
	if s == "" || s == "null" {
		return nil
	}
	var f data.Framing
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return err
	}
	if in := m.InputShape(); len(in) < 2 || f.Size != [2]int{in[0], in[1]} {
		return fmt.Errorf("framing of images of size %v, the model's input is %v", f.Size, in)
	}
	return m.SetFraming(f)
}

// Framing returns the framing stored in the model's metadata. A model
// without one (its file was written before training recorded it, or it was
// imported) gets the framing of the named data set its metadata says it was
// trained on ([data.NamedFraming]), else none: images are resized whole, as
// they were, and a model of one channel is taken to have learnt light ink on
// a dark background (Dark, as MNIST's and AHCD's), one of colours not.
func (m *Model) Framing() (data.Framing, error) {
	s, ok := m.Meta[framingKey]
	if !ok {
		if f, ok := data.NamedFraming(m.Meta["dataset"]); ok {
			return f, nil
		}
		f := data.Framing{}
		if len(m.input) >= 2 {
			f.Size = [2]int{m.input[0], m.input[1]}
		}
		f.Dark = len(m.input) == 3 && m.input[2] == 1
		return f, nil
	}
	var f data.Framing
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return f, fmt.Errorf("framing in model metadata: %w", err)
	}
	if err := f.Check(); err != nil {
		return f, fmt.Errorf("framing in model metadata: %w", err)
	}
	f.Dark = f.Dark || f.Framed() // a box is measured on light ink on dark alone; files before dark was recorded
	return f, nil
}
