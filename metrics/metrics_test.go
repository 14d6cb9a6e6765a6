package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// sklearnExample is the example of scikit-learn's classification_report
// documentation: y_true=[0,1,2,2,2], y_pred=[0,0,2,2,1].
func sklearnExample() *Confusion {
	c := NewConfusion(3)
	c.AddAll([]int{0, 1, 2, 2, 2}, []int{0, 0, 2, 2, 1})
	return c
}

func TestConfusionCounts(t *testing.T) {
	c := sklearnExample()
	want := [][]int{{1, 0, 0}, {1, 0, 0}, {0, 1, 2}}
	if !reflect.DeepEqual(c.Counts, want) {
		t.Errorf("Counts = %v, want %v", c.Counts, want)
	}
	if got := c.Total(); got != 5 {
		t.Errorf("Total() = %d, want 5", got)
	}
	if got := c.Correct(); got != 3 {
		t.Errorf("Correct() = %d, want 3", got)
	}
	if got := c.Accuracy(); got != 0.6 {
		t.Errorf("Accuracy() = %v, want 0.6", got)
	}
	if got := NewConfusion(4).Accuracy(); got != 0 {
		t.Errorf("empty Accuracy() = %v, want 0", got)
	}
}

func TestConfusionAddPanics(t *testing.T) {
	for _, tc := range []struct{ label, pred int }{{-1, 0}, {0, -1}, {3, 0}, {0, 3}} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Add(%d, %d) on 3 classes did not panic", tc.label, tc.pred)
				} else if !strings.HasPrefix(r.(string), "metrics: ") {
					t.Errorf("Add(%d, %d) panic %q lacks package prefix", tc.label, tc.pred, r)
				}
			}()
			NewConfusion(3).Add(tc.label, tc.pred)
		}()
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestReportValues(t *testing.T) {
	r := Report(sklearnExample(), nil)
	// Hand-computed: class 0 tp=1 of 2 predicted and 1 true; class 1 never
	// right; class 2 tp=2 of 2 predicted and 3 true.
	want := []Scores{
		{Precision: 0.5, Recall: 1, F1: 2.0 / 3, Support: 1},
		{Precision: 0, Recall: 0, F1: 0, Support: 1},
		{Precision: 1, Recall: 2.0 / 3, F1: 0.8, Support: 3},
	}
	for i, w := range want {
		g := r.Classes[i]
		if g.Class != i || g.Name != []string{"0", "1", "2"}[i] || !near(g.Precision, w.Precision) ||
			!near(g.Recall, w.Recall) || !near(g.F1, w.F1) || g.Support != w.Support {
			t.Errorf("class %d = %+v, want %+v", i, g, w)
		}
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"accuracy", r.Accuracy, 0.6},
		{"macro precision", r.MacroAvg.Precision, 0.5},
		{"macro recall", r.MacroAvg.Recall, (1 + 0 + 2.0/3) / 3},
		{"macro f1", r.MacroAvg.F1, (2.0/3 + 0 + 0.8) / 3},
		{"weighted precision", r.WeightedAvg.Precision, 0.7},
		{"weighted recall", r.WeightedAvg.Recall, 0.6},
		{"weighted f1", r.WeightedAvg.F1, (2.0/3 + 3*0.8) / 5},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Support != 5 || r.MacroAvg.Support != 5 || r.WeightedAvg.Support != 5 {
		t.Errorf("supports = %d, %d, %d, want 5", r.Support, r.MacroAvg.Support, r.WeightedAvg.Support)
	}
}

func TestReportZeroDivision(t *testing.T) {
	// Class 1 is never true and never predicted; class 2 is predicted but
	// never true.
	c := NewConfusion(3)
	c.AddAll([]int{0, 0, 0}, []int{0, 0, 2})
	r := Report(c, nil)
	for i, w := range []Scores{
		{Precision: 1, Recall: 2.0 / 3, F1: 0.8, Support: 3},
		{},
		{Support: 0},
	} {
		g := r.Classes[i].Scores
		if !near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || !near(g.F1, w.F1) || g.Support != w.Support {
			t.Errorf("class %d = %+v, want %+v", i, g, w)
		}
	}
	if !near(r.MacroAvg.F1, 0.8/3) || !near(r.WeightedAvg.F1, 0.8) {
		t.Errorf("macro F1 %v, weighted F1 %v, want %v, 0.8", r.MacroAvg.F1, r.WeightedAvg.F1, 0.8/3)
	}
	empty := Report(NewConfusion(2), nil)
	if empty.Accuracy != 0 || empty.WeightedAvg != (Scores{}) || empty.MacroAvg != (Scores{}) {
		t.Errorf("empty report = %+v, want zeros", empty)
	}
}

func TestReportWriteText(t *testing.T) {
	// The output printed in scikit-learn's documentation for this example.
	want := `              precision    recall  f1-score   support

     class 0       0.50      1.00      0.67         1
     class 1       0.00      0.00      0.00         1
     class 2       1.00      0.67      0.80         3

    accuracy                           0.60         5
   macro avg       0.50      0.56      0.49         5
weighted avg       0.70      0.60      0.61         5
`
	var b bytes.Buffer
	if err := Report(sklearnExample(), []string{"class 0", "class 1", "class 2"}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReportWriteTextWideNames(t *testing.T) {
	c := NewConfusion(2)
	c.AddAll([]int{0, 1, 1}, []int{0, 1, 0})
	var b bytes.Buffer
	if err := Report(c, []string{"alef ا", "a longer class name"}).WriteTextDigits(&b, 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	// The name column is 19 wide; the Arabic name is padded by its 6
	// visible characters and followed by a left-to-right mark.
	want := []string{
		"                     precision    recall  f1-score   support",
		"",
		"             alef ا\u200e      0.500     1.000     0.667         1",
		"a longer class name      1.000     0.500     0.667         2",
		"",
		"           accuracy                          0.667         3",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
}

func TestReportNamesMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Report with 2 names for 3 classes did not panic")
		}
	}()
	Report(NewConfusion(3), []string{"a", "b"})
}

func TestReportJSON(t *testing.T) {
	data, err := json.Marshal(Report(sklearnExample(), []string{"a", "b", "c"}))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"classes", "accuracy", "support", "macro_avg", "weighted_avg"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON %s lacks key %q", data, key)
		}
	}
	class0 := got["classes"].([]any)[0].(map[string]any)
	for key, want := range map[string]any{"class": 0.0, "name": "a", "precision": 0.5, "recall": 1.0, "support": 1.0} {
		if class0[key] != want {
			t.Errorf("classes[0][%q] = %v, want %v", key, class0[key], want)
		}
	}
	if _, ok := class0["f1_score"]; !ok {
		t.Errorf("classes[0] = %v lacks f1_score", class0)
	}
}

func TestMostConfused(t *testing.T) {
	c := NewConfusion(4)
	add := func(label, pred, n int) {
		for range n {
			c.Add(label, pred)
		}
	}
	add(0, 0, 50) // diagonal: never listed
	add(2, 1, 3)
	add(1, 2, 3)
	add(3, 0, 5)
	add(0, 3, 1)
	add(1, 0, 3)
	tests := []struct {
		k    int
		want []Pair
	}{
		{1, []Pair{{3, 0, 5}}},
		{3, []Pair{{3, 0, 5}, {1, 0, 3}, {1, 2, 3}}},
		{0, []Pair{{3, 0, 5}, {1, 0, 3}, {1, 2, 3}, {2, 1, 3}, {0, 3, 1}}},
		{10, []Pair{{3, 0, 5}, {1, 0, 3}, {1, 2, 3}, {2, 1, 3}, {0, 3, 1}}},
	}
	for _, tc := range tests {
		if got := MostConfused(c, tc.k); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MostConfused(c, %d) = %v, want %v", tc.k, got, tc.want)
		}
	}
	if got := MostConfused(NewConfusion(2), 5); len(got) != 0 {
		t.Errorf("MostConfused(empty) = %v, want none", got)
	}
}

func TestWriteConfusionText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteConfusionText(&b, sklearnExample(), []string{"alef ا", "beh ب", "teh"}); err != nil {
		t.Fatal(err)
	}
	want := "Confusion matrix: rows are true classes, columns predicted classes by index; \".\" is 0.\n" +
		"\n" +
		"true \\ predicted 0 1 2 | total  recall\n" +
		"0 alef ا\u200e         1 . . |     1  100.0%\n" +
		"1 beh ب\u200e          1 . . |     1    0.0%\n" +
		"2 teh            . 1 2 |     3   66.7%\n" +
		"-----------------------+--------------\n" +
		"total            2 1 2 |     5\n" +
		"\n" +
		"accuracy 60.00% (3 of 5)\n"
	if b.String() != want {
		t.Errorf("WriteConfusionText:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteConfusionTextAligned(t *testing.T) {
	// 28 classes with three-digit counts: every row has the same width.
	c := NewConfusion(28)
	names := make([]string, 28)
	for i := range names {
		names[i] = strings.Repeat("x", i%7+1) + " ب"
		for range 100 + i {
			c.Add(i, i)
		}
		c.Add(i, (i+1)%28)
	}
	var b bytes.Buffer
	if err := WriteConfusionText(&b, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteConfusionText(&b, c, names); err != nil {
		t.Fatal(err)
	}
	for _, table := range strings.Split(b.String(), "Confusion matrix")[1:] {
		lines := strings.Split(table, "\n")
		rows := lines[2 : 2+1+28]
		width := textWidth(rows[0])
		for i, row := range rows {
			if w := textWidth(row); w != width {
				t.Errorf("row %d %q is %d wide, header is %d", i, row, w, width)
			}
			if bar := strings.Index(row, "|"); bar != strings.Index(rows[0], "|") && textWidth(row[:bar]) != textWidth(rows[0][:strings.Index(rows[0], "|")]) {
				t.Errorf("row %d %q: column bar misaligned", i, row)
			}
		}
	}
}
