package model

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// The "optimizer" entry of a model file and the optimizer's state tensors,
// "optimizer/<layer>/<parameter>/<slot>": what resuming training needs.

// training is the "optimizer" metadata entry.
type training struct {
	Name       string         `json:"name"`
	Config     map[string]any `json:"config"`
	Iterations int            `json:"iterations"`
	Loss       map[string]any `json:"loss"`
	RNG        string         `json:"rng,omitempty"` // the model's PCG state, base64
	SWA        *swaEntry      `json:"swa,omitempty"`
}

// swaEntry is the state of a Fit with SWA past its first averaged epoch;
// the average of each weight is the tensor "swa/<layer>/<parameter>".
type swaEntry struct {
	Averaged int     `json:"averaged"` // epochs
	StartLR  float64 `json:"start_lr"` // the rate the first averaged epoch ended with
}

// encodeTraining puts the "optimizer" entry in meta and returns the
// optimizer's state tensors.
func (m *Sequential) encodeTraining(meta map[string]string, names map[*nn.Param]string) ([]namedTensor, error) {
	rng, err := m.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	tr := training{
		Name: m.opt.Name(), Config: m.opt.Config(), Iterations: m.opt.Iterations(),
		Loss: m.loss.Config(),
		RNG:  base64.StdEncoding.EncodeToString(rng),
	}
	var tensors []namedTensor
	if sw := m.swa; sw != nil && sw.n > 0 {
		tr.SWA = &swaEntry{Averaged: sw.n, StartLR: sw.r0}
		for i, p := range sw.params {
			pname, ok := names[p]
			if !ok {
				return nil, errors.New("encode: SWA averages a parameter that is not the model's")
			}
			tensors = append(tensors, namedTensor{"swa/" + pname, sw.avg[i]})
		}
	}
	if err := putJSON(meta, "optimizer", tr); err != nil {
		return nil, err
	}
	slots := m.opt.SlotNames()
	for _, ps := range m.opt.State() {
		pname, ok := names[ps.Param]
		if !ok {
			return nil, errors.New("encode: the optimizer holds state for a parameter that is not the model's")
		}
		for k, t := range ps.Slots {
			tensors = append(tensors, namedTensor{"optimizer/" + pname + "/" + slots[k], t})
		}
	}
	return tensors, nil
}

func (m *Sequential) decodeTraining(r io.ReaderAt, h *header, s string, names map[*nn.Param]string, used map[string]bool) error {
	var tr training
	if err := json.Unmarshal([]byte(s), &tr); err != nil {
		return formatErr("optimizer: %v", err)
	}
	opt, err := optim.New(tr.Name, tr.Config)
	if err != nil {
		return formatErr("optimizer: %v", err)
	}
	if tr.Iterations < 0 {
		return formatErr("optimizer: iterations = %d", tr.Iterations)
	}
	slots := opt.SlotNames()
	var state []optim.ParamState
	for _, p := range m.params {
		if !p.Trainable || p.Grad == nil {
			continue
		}
		prefix := "optimizer/" + names[p] + "/"
		found := 0
		for _, slot := range slots {
			if _, ok := h.tensors[prefix+slot]; ok {
				found++
			}
		}
		if found == 0 {
			continue // not updated yet
		}
		for _, slot := range slots {
			if err := h.check(prefix+slot, p.Value.Shape); err != nil {
				return err
			}
		}
		ps := optim.ParamState{Param: p}
		for _, slot := range slots {
			t := tensor.New(p.Value.Shape...)
			if err := readFinite(r, h, prefix+slot, t); err != nil {
				return err
			}
			used[prefix+slot] = true
			ps.Slots = append(ps.Slots, t)
		}
		state = append(state, ps)
	}
	if err := opt.SetState(tr.Iterations, state); err != nil {
		return formatErr("optimizer: %v", err)
	}
	if tr.SWA != nil {
		if err := m.decodeSWA(r, h, tr.SWA, names, used); err != nil {
			return err
		}
	}
	loss, err := nn.LossFromConfig(tr.Loss)
	if err != nil {
		return formatErr("optimizer: loss: %v", err)
	}
	if tr.RNG != "" {
		b, err := base64.StdEncoding.DecodeString(tr.RNG)
		if err == nil {
			err = m.pcg.UnmarshalBinary(b)
		}
		if err != nil {
			return formatErr("optimizer: rng: %v", err)
		}
	}
	if err := m.Compile(opt, loss); err != nil {
		return formatErr("optimizer: %v", err)
	}
	return nil
}

// decodeSWA brings back the weights' average of a Fit with SWA.
func (m *Sequential) decodeSWA(r io.ReaderAt, h *header, e *swaEntry, names map[*nn.Param]string, used map[string]bool) error {
	if e.Averaged < 1 || !(e.StartLR >= 0) || math.IsInf(e.StartLR, 0) {
		return formatErr("optimizer: swa: %d epochs averaged from a learning rate of %v: want at least 1 and a finite rate >= 0", e.Averaged, e.StartLR)
	}
	m.swa = nil
	sw := m.swaFor()
	for i, p := range sw.params {
		name := "swa/" + names[p]
		if err := h.check(name, p.Value.Shape); err != nil {
			return err
		}
		if err := readFinite(r, h, name, sw.avg[i]); err != nil {
			return err
		}
		used[name] = true
	}
	sw.n, sw.r0 = e.Averaged, e.StartLR
	m.swa = sw
	return nil
}
