package model

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Progbar prints training progress the way Keras 2 does:
//
//	Epoch 3/30
//	 87/134 [==================>...........] - ETA: 9s - loss: 0.4123 - accuracy: 0.8712
//
// redrawn in place on a terminal, and at the end of each epoch
//
//	134/134 [==============================] - 25s 187ms/step - loss: 0.4123 - accuracy: 0.8712 - val_loss: 0.2001 - val_accuracy: 0.9412 - lr: 0.0010
//
// When the output is not a terminal only the final line of each epoch is
// printed (Keras's verbose=2).
type Progbar struct {
	w           io.Writer
	interactive bool
	interval    time.Duration

	target int
	start  time.Time
	last   time.Time
	width  int // of the last line drawn, for clearing
	now    func() time.Time
}

// NewProgbar returns a progress bar writing to w; interactive says whether w
// is a terminal that understands carriage returns.
func NewProgbar(w io.Writer, interactive bool) *Progbar {
	return &Progbar{w: w, interactive: interactive, interval: 50 * time.Millisecond, now: time.Now}
}

// StartEpoch prints the epoch header. epoch counts from 0; steps is the
// number of batches expected (0 if unknown).
func (p *Progbar) StartEpoch(epoch, epochs, steps int) {
	fmt.Fprintf(p.w, "Epoch %d/%d\n", epoch+1, epochs)
	p.target = steps
	p.start = p.now()
	p.last = time.Time{}
	p.width = 0
}

// Update redraws the bar after step (counted from 1) with the running means.
func (p *Progbar) Update(step int, loss, accuracy float64) {
	if !p.interactive {
		return
	}
	now := p.now()
	if step < p.target && now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	var b strings.Builder
	p.bar(&b, step)
	elapsed := now.Sub(p.start).Seconds()
	if p.target > 0 && step < p.target {
		eta := elapsed / float64(step) * float64(p.target-step)
		fmt.Fprintf(&b, " - ETA: %s", formatETA(eta))
	}
	metric(&b, "loss", loss)
	metric(&b, "accuracy", accuracy)
	p.draw(b.String())
}

// EndEpoch prints the epoch's final line.
func (p *Progbar) EndEpoch(steps int, logs EpochLogs) {
	var b strings.Builder
	if p.interactive {
		p.bar(&b, steps)
	} else {
		fmt.Fprintf(&b, "%d/%d", steps, max(steps, p.target))
	}
	perStep := logs.Seconds / float64(max(steps, 1))
	fmt.Fprintf(&b, " - %.0fs %s", logs.Seconds, formatPerStep(perStep))
	metric(&b, "loss", logs.Loss)
	metric(&b, "accuracy", logs.Accuracy)
	if logs.HasValidation {
		metric(&b, "val_loss", logs.ValLoss)
		metric(&b, "val_accuracy", logs.ValAccuracy)
	}
	metric(&b, "lr", logs.LearningRate)
	p.draw(b.String())
	fmt.Fprintln(p.w)
}

// Notef prints a message on its own line.
func (p *Progbar) Notef(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// bar writes "step/target [====>....]" with Keras 2's width of 30.
func (p *Progbar) bar(b *strings.Builder, step int) {
	const width = 30
	target := max(p.target, step)
	digits := len(fmt.Sprint(target))
	fmt.Fprintf(b, "%*d/%d [", digits, step, target)
	filled := 0
	if target > 0 {
		filled = width * step / target
	}
	if filled > 0 {
		b.WriteString(strings.Repeat("=", filled-1))
		if step < target {
			b.WriteByte('>')
		} else {
			b.WriteByte('=')
		}
	}
	b.WriteString(strings.Repeat(".", width-filled))
	b.WriteByte(']')
}

// draw writes line over the previous one on a terminal.
func (p *Progbar) draw(line string) {
	if p.interactive {
		pad := ""
		if n := p.width - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.width = len(line)
		return
	}
	fmt.Fprint(p.w, line)
}

// metric writes " - name: value" with Keras's number format.
func metric(b *strings.Builder, name string, v float64) {
	if math.Abs(v) > 1e-3 || v == 0 {
		fmt.Fprintf(b, " - %s: %.4f", name, v)
	} else {
		fmt.Fprintf(b, " - %s: %.4e", name, v)
	}
}

func formatETA(s float64) string {
	t := int(s)
	switch {
	case t > 3600:
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t%3600/60, t%60)
	case t > 60:
		return fmt.Sprintf("%d:%02d", t/60, t%60)
	}
	return fmt.Sprintf("%ds", t)
}

func formatPerStep(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.0fs/step", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.0fms/step", s*1e3)
	}
	return fmt.Sprintf("%.0fus/step", s*1e6)
}
