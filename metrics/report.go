package metrics

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// Scores are the precision, recall and F1 score of one class or an average
// over classes, with the number of true samples they cover.
type Scores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1_score"`
	Support   int     `json:"support"`
}

// ClassScores are the scores of one class.
type ClassScores struct {
	Class int    `json:"class"`
	Name  string `json:"name"`
	Scores
}

// ClassificationReport holds what scikit-learn's classification_report
// prints: per-class scores, accuracy, and the macro (unweighted mean over
// classes) and weighted (mean weighted by support) averages.
type ClassificationReport struct {
	Classes     []ClassScores `json:"classes"`
	Accuracy    float64       `json:"accuracy"`
	Support     int           `json:"support"`
	MacroAvg    Scores        `json:"macro_avg"`
	WeightedAvg Scores        `json:"weighted_avg"`
}

// Report computes the classification report of c. names[i] names class i; a
// nil names uses the class indices. It panics if names is non-nil and its
// length differs from c.NumClasses().
func Report(c *Confusion, names []string) ClassificationReport {
	n := c.NumClasses()
	names = classNames(names, n, "Report")
	predicted := make([]int, n)
	for _, row := range c.Counts {
		for p, v := range row {
			predicted[p] += v
		}
	}
	r := ClassificationReport{Classes: make([]ClassScores, n), Support: c.Total(), Accuracy: c.Accuracy()}
	for i, row := range c.Counts {
		tp := row[i]
		support := 0
		for _, v := range row {
			support += v
		}
		s := Scores{
			Precision: ratio(tp, predicted[i]),
			Recall:    ratio(tp, support),
			// 2tp/(2tp+fp+fn) is the harmonic mean of precision and recall,
			// and 0 where scikit-learn divides by zero.
			F1:      ratio(2*tp, 2*tp+(predicted[i]-tp)+(support-tp)),
			Support: support,
		}
		r.Classes[i] = ClassScores{Class: i, Name: names[i], Scores: s}
		r.MacroAvg.Precision += s.Precision / float64(n)
		r.MacroAvg.Recall += s.Recall / float64(n)
		r.MacroAvg.F1 += s.F1 / float64(n)
		if r.Support > 0 {
			w := float64(support) / float64(r.Support)
			r.WeightedAvg.Precision += s.Precision * w
			r.WeightedAvg.Recall += s.Recall * w
			r.WeightedAvg.F1 += s.F1 * w
		}
	}
	r.MacroAvg.Support = r.Support
	r.WeightedAvg.Support = r.Support
	return r
}

func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// classNames returns names, or the class indices as names when names is nil.
func classNames(names []string, n int, fn string) []string {
	if names == nil {
		names = make([]string, n)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		return names
	}
	if len(names) != n {
		panic(fmt.Sprintf("metrics: %s: %d names for %d classes", fn, len(names), n))
	}
	return names
}

// WriteText writes the report in the layout of scikit-learn's
// classification_report with two digits.
func (r ClassificationReport) WriteText(w io.Writer) error {
	return r.WriteTextDigits(w, 2)
}

// WriteTextDigits writes the report in the layout of scikit-learn's
// classification_report, with scores rounded to digits decimals.
func (r ClassificationReport) WriteTextDigits(w io.Writer, digits int) error {
	const lastHeading = "weighted avg"
	width := max(len(lastHeading), digits)
	for _, c := range r.Classes {
		width = max(width, textWidth(c.Name))
	}
	var b strings.Builder
	b.WriteString(padLeft("", width) + " ")
	for _, h := range []string{"precision", "recall", "f1-score", "support"} {
		fmt.Fprintf(&b, " %9s", h)
	}
	b.WriteString("\n\n")
	row := func(name string, s Scores) {
		fmt.Fprintf(&b, "%s  %9.*f %9.*f %9.*f %9d\n", padLeft(name, width),
			digits, s.Precision, digits, s.Recall, digits, s.F1, s.Support)
	}
	for _, c := range r.Classes {
		row(c.Name, c.Scores)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s  %9s %9s %9.*f %9d\n", padLeft("accuracy", width), "", "", digits, r.Accuracy, r.Support)
	row("macro avg", r.MacroAvg)
	row(lastHeading, r.WeightedAvg)
	_, err := io.WriteString(w, b.String())
	return err
}

// lrm is the left-to-right mark written after names with right-to-left
// letters.
const lrm = "\u200e"

// textWidth is the number of terminal columns of s: its runes, less
// zero-width marks.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Cf, r) {
			n++
		}
	}
	return n
}

// bidiSafe appends a left-to-right mark to s if it holds a right-to-left
// letter, so that text after it stays left to right.
func bidiSafe(s string) string {
	for _, r := range s {
		if unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko) && unicode.IsLetter(r) {
			return s + lrm
		}
	}
	return s
}

func padLeft(s string, width int) string {
	return strings.Repeat(" ", max(0, width-textWidth(s))) + bidiSafe(s)
}

func padRight(s string, width int) string {
	return bidiSafe(s) + strings.Repeat(" ", max(0, width-textWidth(s)))
}
