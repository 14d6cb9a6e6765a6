package optim

import (
	"math"
	"strings"
	"testing"
)

var warmStep = Warmup{Target: 0.4, Steps: 20, Epochs: 2, After: StepDecay{Initial: 0.4, Factor: 0.5, Every: 3}}

func TestSchedules(t *testing.T) {
	tests := []struct {
		name        string
		s           Schedule
		step, epoch int
		want        float64
	}{
		{"constant", Constant{0.02}, 100, 3, 0.02},
		{"step decay epoch 0", StepDecay{Initial: 0.1, Factor: 0.5, Every: 10}, 0, 0, 0.1},
		{"step decay epoch 9", StepDecay{Initial: 0.1, Factor: 0.5, Every: 10}, 0, 9, 0.1},
		{"step decay epoch 10", StepDecay{Initial: 0.1, Factor: 0.5, Every: 10}, 0, 10, 0.05},
		{"step decay epoch 25", StepDecay{Initial: 0.1, Factor: 0.5, Every: 10}, 0, 25, 0.025},
		{"step decay never", StepDecay{Initial: 0.1, Factor: 0.5}, 0, 25, 0.1},
		{"cosine start", Cosine{Initial: 1, DecaySteps: 100}, 0, 0, 1},
		{"cosine middle", Cosine{Initial: 1, DecaySteps: 100}, 50, 0, 0.5},
		{"cosine quarter", Cosine{Initial: 2, DecaySteps: 100}, 25, 0, 1 + math.Sqrt2/2},
		{"cosine end", Cosine{Initial: 1, DecaySteps: 100, Alpha: 0.1}, 100, 0, 0.1},
		{"cosine after end", Cosine{Initial: 1, DecaySteps: 100, Alpha: 0.1}, 1000, 0, 0.1},
		{"cosine alpha middle", Cosine{Initial: 1, DecaySteps: 100, Alpha: 0.2}, 50, 0, 0.6},
		// Keras's warmup: from Initial to WarmupTarget in a straight line,
		// then the cosine from WarmupTarget.
		{"warmup start", Cosine{Initial: 0, DecaySteps: 100, WarmupTarget: 2, WarmupSteps: 10}, 0, 0, 0},
		{"warmup quarter", Cosine{Initial: 0.2, DecaySteps: 100, WarmupTarget: 1, WarmupSteps: 8}, 2, 0, 0.4},
		{"warmup end, decay start", Cosine{Initial: 0, DecaySteps: 100, WarmupTarget: 2, WarmupSteps: 10}, 10, 0, 2},
		{"decay middle after warmup", Cosine{Initial: 0, DecaySteps: 100, WarmupTarget: 2, WarmupSteps: 10, Alpha: 0.2}, 60, 0, 1.2},
		{"after warmup and decay", Cosine{Initial: 0, DecaySteps: 100, WarmupTarget: 2, WarmupSteps: 10, Alpha: 0.1}, 1000, 0, 0.2},
		// A warmup of 2 epochs of 10 steps before a step decay, whose
		// epochs count from the warmup's end: halved at epoch 2 + 3.
		{"warmup before a step decay, start", warmStep, 0, 0, 0},
		{"warmup before a step decay, 3/4", warmStep, 15, 1, 0.3},
		{"warmup before a step decay, end", warmStep, 20, 2, 0.4},
		{"warmup before a step decay, epoch 4", warmStep, 49, 4, 0.4},
		{"warmup before a step decay, epoch 5", warmStep, 50, 5, 0.2},
		{"warmup before a constant rate", Warmup{Target: 0.01, Steps: 4, Epochs: 1, After: Constant{0.01}}, 1, 0, 0.0025},
		// The same rates as Keras's own warmup of the cosine.
		{"warmup before a cosine", Warmup{Target: 2, Steps: 10, Epochs: 1, After: Cosine{Initial: 2, DecaySteps: 100, Alpha: 0.2}}, 60, 6, 1.2},
	}
	for _, tt := range tests {
		if got := tt.s.LR(tt.step, tt.epoch); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: %T.LR(%d, %d) = %v, want %v", tt.name, tt.s, tt.step, tt.epoch, got, tt.want)
		}
	}
}

func TestReduceLROnPlateau(t *testing.T) {
	type epoch struct {
		value  float64
		wantLR float64
	}
	tests := []struct {
		name   string
		r      *ReduceLROnPlateau
		lr     float64
		epochs []epoch
	}{
		{
			name: "patience 2 min mode",
			r:    &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 2},
			lr:   1,
			epochs: []epoch{
				{1.0, 1}, {0.9, 1}, {0.95, 1}, {0.91, 0.5}, // two epochs without improvement
				{0.92, 0.5}, {0.93, 0.25}, {0.5, 0.25},
			},
		},
		{
			name: "min_delta is absolute",
			r:    &ReduceLROnPlateau{Monitor: "loss", Factor: 0.1, Patience: 1, MinDelta: 0.1},
			lr:   1,
			epochs: []epoch{
				{1.0, 1}, {0.95, 0.1}, // 0.95 is not below 1.0-0.1
				{0.85, 0.1}, // below 1.0 - 0.1: improvement
				{0.80, 0.01},
			},
		},
		{
			name: "auto mode maximises accuracy",
			r:    &ReduceLROnPlateau{Monitor: "val_acc", Factor: 0.5, Patience: 1},
			lr:   1,
			epochs: []epoch{
				{0.5, 1}, {0.6, 1}, {0.55, 0.5}, {0.7, 0.5}, {0.7, 0.25},
			},
		},
		{
			name: "min_lr floor",
			r:    &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.1, Patience: 1, MinLR: 0.05},
			lr:   1,
			epochs: []epoch{
				{1, 1}, {1, 0.1}, {1, 0.05}, {1, 0.05},
			},
		},
		{
			name: "cooldown",
			r:    &ReduceLROnPlateau{Monitor: "val_loss", Factor: 0.5, Patience: 1, Cooldown: 2},
			lr:   1,
			epochs: []epoch{
				{1, 1}, {1, 0.5}, // reduce, cooldown counter 2
				{1, 0.5},                  // counter 2 -> 1: still cooling down, no waiting
				{1, 0.25},                 // counter 1 -> 0: waiting again, patience 1 reached (as in Keras)
				{1, 0.25},                 // counter 2 -> 1
				{0.5, 0.25}, {0.5, 0.125}, // improvement, then one epoch without
			},
		},
		{
			name: "defaults wait 10 epochs",
			r:    NewReduceLROnPlateau(""),
			lr:   0.001,
			epochs: []epoch{
				{1, 0.001}, {1, 0.001}, {1, 0.001}, {1, 0.001}, {1, 0.001}, {1, 0.001},
				{1, 0.001}, {1, 0.001}, {1, 0.001}, {1, 0.001}, {1, 0.0001},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.r.Validate(); err != nil {
				t.Fatal(err)
			}
			lr := tt.lr
			for i, e := range tt.epochs {
				lr, _ = tt.r.Update(e.value, lr)
				if math.Abs(lr-e.wantLR) > 1e-12 {
					t.Fatalf("epoch %d: Update(%v) gives lr %v, want %v", i, e.value, lr, e.wantLR)
				}
			}
		})
	}
}

func TestReduceLROnPlateauValidate(t *testing.T) {
	tests := []struct {
		r    ReduceLROnPlateau
		want string
	}{
		{ReduceLROnPlateau{Factor: 1, Patience: 1}, "factor = 1, want < 1"},
		{ReduceLROnPlateau{Factor: 0}, "factor = 0, want > 0"},
		{ReduceLROnPlateau{Factor: 0.5, Patience: -1}, "patience = -1"},
		{ReduceLROnPlateau{Factor: 0.5, Mode: "up"}, `mode "up"`},
		{ReduceLROnPlateau{Factor: 0.5, MinLR: -1}, "min_lr = -1, want a finite number >= 0"},
		{ReduceLROnPlateau{Factor: 0.5, MinLR: math.NaN()}, "min_lr = NaN"},
		{ReduceLROnPlateau{Factor: 0.5, MinLR: math.Inf(1)}, "min_lr = +Inf"},
		{ReduceLROnPlateau{Factor: 0.5, MinDelta: math.NaN()}, "min_delta = NaN, want a finite number"},
		{ReduceLROnPlateau{Factor: 0.5, MinDelta: math.Inf(-1)}, "min_delta = -Inf"},
	}
	for _, tt := range tests {
		err := tt.r.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v, want an error containing %q", tt.r, err, tt.want)
		}
	}
}

// TestWarmupCosine: a Warmup before a Cosine gives, bit for bit, the rates
// of the Cosine's own (Keras's) warmup, which convnet train relies on.
func TestWarmupCosine(t *testing.T) {
	const steps, epochs = 134, 30
	for _, w := range []int{1, 2, 5} {
		keras := Cosine{DecaySteps: steps * (epochs - w), Alpha: 0.1, WarmupTarget: 0.002, WarmupSteps: steps * w}
		warm := Warmup{Target: 0.002, Steps: steps * w, Epochs: w, After: Cosine{Initial: 0.002, DecaySteps: steps * (epochs - w), Alpha: 0.1}}
		for s := range steps*epochs + 50 {
			if a, b := keras.LR(s, s/steps), warm.LR(s, s/steps); a != b {
				t.Fatalf("warmup of %d epochs, step %d: %v, Keras's %v", w, s, b, a)
			}
		}
	}
}
