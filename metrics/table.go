package metrics

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteConfusionText writes c as an aligned text table: one row per true
// class, labelled with its index and name, one column per predicted class,
// headed by its index, then each row's total and recall, a row of column
// totals, and the accuracy. Zero cells print as "." so that the errors stand
// out. A nil names uses the class indices. It panics if names is non-nil and
// its length differs from c.NumClasses().
func WriteConfusionText(w io.Writer, c *Confusion, names []string) error {
	n := c.NumClasses()
	names = classNames(names, n, "WriteConfusionText")
	colTotals := make([]int, n)
	maxCount := 0
	for _, row := range c.Counts {
		for p, v := range row {
			colTotals[p] += v
			maxCount = max(maxCount, v)
		}
	}
	idxWidth := len(strconv.Itoa(n - 1))
	cell := max(len(strconv.Itoa(maxCount)), idxWidth) + 1
	nameWidth := 0
	for _, name := range names {
		nameWidth = max(nameWidth, textWidth(name))
	}
	const corner = "true \\ predicted"
	labelWidth := max(idxWidth+1+nameWidth, len(corner))
	totalWidth := max(len(strconv.Itoa(c.Total())), len("total"))

	var b strings.Builder
	b.WriteString("Confusion matrix: rows are true classes, columns predicted classes by index; \".\" is 0.\n\n")
	b.WriteString(padRight(corner, labelWidth))
	for p := range n {
		fmt.Fprintf(&b, "%*d", cell, p)
	}
	fmt.Fprintf(&b, " | %*s  recall\n", totalWidth, "total")
	for t, row := range c.Counts {
		label := fmt.Sprintf("%*d %s", idxWidth, t, names[t])
		b.WriteString(padRight(label, labelWidth))
		support := 0
		for _, v := range row {
			support += v
			if v == 0 {
				fmt.Fprintf(&b, "%*s", cell, ".")
			} else {
				fmt.Fprintf(&b, "%*d", cell, v)
			}
		}
		fmt.Fprintf(&b, " | %*d  %5.1f%%\n", totalWidth, support, 100*ratio(row[t], support))
	}
	b.WriteString(strings.Repeat("-", labelWidth+cell*n) + "-+-" + strings.Repeat("-", totalWidth+8) + "\n")
	b.WriteString(padRight("total", labelWidth))
	for _, v := range colTotals {
		fmt.Fprintf(&b, "%*d", cell, v)
	}
	fmt.Fprintf(&b, " | %*d\n", totalWidth, c.Total())
	fmt.Fprintf(&b, "\naccuracy %.2f%% (%d of %d)\n", 100*c.Accuracy(), c.Correct(), c.Total())
	_, err := io.WriteString(w, b.String())
	return err
}
