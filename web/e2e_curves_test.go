package web

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
)

// TestBrowserCurvesValidationFreq draws on the page the curves of a
// history validated every 2nd epoch, as convnet train --validation-freq 2
// stores it (null in the validation lists for epochs 1 and 3): each
// validation line (dashed) goes through the points of epochs 2 and 4 only,
// where the training lines have a point at each of the 4 epochs.
func TestBrowserCurvesValidationFreq(t *testing.T) {
	m := untrained(t, "tutorial")
	m.Meta = map[string]string{}
	m.Meta["history"] = `{"epoch":[1,2,3,4],"loss":[1.5,0.9,0.7,0.6],"accuracy":[0.4,0.7,0.75,0.8],` +
		`"val_loss":[null,1.0,null,0.8],"val_accuracy":[null,0.65,null,0.7],"learning_rate":[0.001,0.001,0.001,0.001]}`
	s, err := NewServer([]Model{{"tutorial", classifier(t, m, model.ClassifierOptions{})}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	url := startServer(t, s)
	b := browser.Start(t, 1200, 900, 120*time.Second)
	b.Do("loading "+url, chromedp.Navigate(url+"/?model=tutorial"), chromedp.WaitVisible(chromedp.CSS("#pad")))
	b.WaitFor("the model's history", `window.convnetState && !!window.convnetState.history`)
	// The x of each point of each line drawn, by its colour and dash.
	b.Do("drawing the curves on a recording canvas", chromedp.Evaluate[chromedp.Void](`import("/panel.js").then(({ drawCurves }) => {
		const canvas = document.createElement("canvas");
		canvas.width = 600; canvas.height = 400;
		const c = canvas.getContext("2d"), lines = {};
		for (const f of ["moveTo", "lineTo"]) {
			const draw = c[f].bind(c);
			c[f] = (x, y) => {
				if (c.lineWidth === 2) (lines[c.strokeStyle + (c.getLineDash().length ? " dashed" : "")] ??= []).push(Math.round(x));
				draw(x, y);
			};
		}
		drawCurves(canvas, window.convnetState.history);
		window.curveLines = lines;
	})`))
	b.WaitFor("the recorded curves", `!!window.curveLines`)
	lines := browser.Eval[map[string][]int](b, `window.curveLines`)
	for _, color := range []string{"#3b5bdb", "#f08c00"} { // loss, accuracy
		train, val := lines[color], lines[color+" dashed"]
		if len(train) != 4 {
			t.Fatalf("the training line of %s: points at x %v, want 4 (lines drawn: %v)", color, train, lines)
		}
		if want := []int{train[1], train[3]}; !slices.Equal(val, want) {
			t.Errorf("the validation line of %s: points at x %v, want epochs 2 and 4's, %v", color, val, want)
		}
	}
}
