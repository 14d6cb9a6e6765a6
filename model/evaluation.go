package model

import (
	"encoding/json"
	"fmt"
)

// evaluationKey is the metadata key of a model's [Evaluation].
const evaluationKey = "evaluation"

// Evaluation is a model's test-set evaluation as its file keeps it, under
// the metadata key "evaluation", for the demo to show: the figures, the
// confusion matrix and, for each cell of it, a few test images. Its JSON
// form is
//
//	{"dataset": "ahcd", "classes": ["alef", ...], "accuracy": 0.95, "loss": 0.18,
//	 "count": 3360, "matrix": [[118, 0, ...], ...], "image_shape": [32, 32, 1],
//	 "samples": [{"true": 1, "pred": 2, "index": 17, "pixels": "<base64>"}, ...]}
//
// where matrix[t][p] counts the test images of true class t predicted as p.
// Files written before loss was recorded read as a loss of 0.
type Evaluation struct {
	Dataset    string              `json:"dataset,omitempty"` // the test set, as the command line named it
	Classes    []string            `json:"classes"`
	Accuracy   float64             `json:"accuracy"`
	Loss       float64             `json:"loss"` // mean cross-entropy, without label smoothing
	Count      int                 `json:"count"`
	Matrix     [][]int             `json:"matrix"`
	ImageShape []int               `json:"image_shape"` // [H, W, C] of the samples
	Samples    []*EvaluationSample `json:"samples,omitempty"`
}

// EvaluationSample is one test image of an [Evaluation].
type EvaluationSample struct {
	True  int `json:"true"`
	Pred  int `json:"pred"`
	Index int `json:"index"` // the image's position in the test set
	// Pixels holds H*W*C raw bytes (0..255, upright, white on black, row by
	// row, channels last); JSON holds them in base64.
	Pixels []byte `json:"pixels"`
}

// Check reports whether e is consistent for a model of the given number of
// classes: a square matrix of that size and of counts >= 0, samples of
// classes in range and of the image shape.
func (e *Evaluation) Check(classes int) error {
	if len(e.Matrix) != classes {
		return fmt.Errorf("matrix has %d rows, want %d", len(e.Matrix), classes)
	}
	for i, row := range e.Matrix {
		if len(row) != classes {
			return fmt.Errorf("matrix row %d has %d columns, want %d", i, len(row), classes)
		}
		for j, v := range row {
			if v < 0 {
				return fmt.Errorf("matrix[%d][%d] = %d, want a count >= 0", i, j, v)
			}
		}
	}
	size := 0
	if len(e.ImageShape) == 3 {
		size = 1
		for _, d := range e.ImageShape {
			if d < 1 || d > maxInputDim {
				size = 0
				break
			}
			size *= d
		}
	}
	for i, sm := range e.Samples {
		if sm == nil {
			return fmt.Errorf("sample %d is null", i)
		}
		if sm.True < 0 || sm.True >= classes || sm.Pred < 0 || sm.Pred >= classes {
			return fmt.Errorf("sample %d: classes %d, %d out of range", i, sm.True, sm.Pred)
		}
		if len(sm.Pixels) != size || size == 0 {
			return fmt.Errorf("sample %d: %d pixels, want %d (image_shape %v)", i, len(sm.Pixels), size, e.ImageShape)
		}
	}
	return nil
}

// ParseEvaluation reads an Evaluation from its JSON form and checks it for
// a model of the given number of classes.
func ParseEvaluation(s string, classes int) (*Evaluation, error) {
	var e Evaluation
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, err
	}
	if err := e.Check(classes); err != nil {
		return nil, err
	}
	return &e, nil
}

// SetEvaluation stores e in m.Meta["evaluation"] as JSON.
func (m *Sequential) SetEvaluation(e *Evaluation) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	m.Meta[evaluationKey] = string(b)
	return nil
}

// Evaluation returns the evaluation stored in the model's metadata, or nil
// if there is none.
func (m *Sequential) Evaluation() (*Evaluation, error) {
	s, ok := m.Meta[evaluationKey]
	if !ok {
		return nil, nil
	}
	e, err := ParseEvaluation(s, m.NumClasses())
	if err != nil {
		return nil, fmt.Errorf("evaluation in model metadata: %w", err)
	}
	return e, nil
}
