package metrics

import (
	"cmp"
	"fmt"
	"slices"
)

// Confusion is a confusion matrix: Counts[t][p] is the number of samples of
// true class t predicted as class p.
type Confusion struct {
	Counts [][]int `json:"counts"`
}

// NewConfusion returns an empty confusion matrix for numClasses classes.
// It panics if numClasses is not positive.
func NewConfusion(numClasses int) *Confusion {
	if numClasses <= 0 {
		panic(fmt.Sprintf("metrics: NewConfusion(%d): need at least one class", numClasses))
	}
	counts := make([][]int, numClasses)
	cells := make([]int, numClasses*numClasses)
	for i := range counts {
		counts[i] = cells[i*numClasses : (i+1)*numClasses : (i+1)*numClasses]
	}
	return &Confusion{Counts: counts}
}

// NumClasses returns the number of classes.
func (c *Confusion) NumClasses() int { return len(c.Counts) }

// Add counts one sample of true class label predicted as class pred.
// It panics if either index is outside 0..NumClasses()-1.
func (c *Confusion) Add(label, pred int) {
	n := len(c.Counts)
	if label < 0 || label >= n || pred < 0 || pred >= n {
		panic(fmt.Sprintf("metrics: Confusion.Add(%d, %d): class out of range 0..%d", label, pred, n-1))
	}
	c.Counts[label][pred]++
}

// AddAll counts labels[i] predicted as preds[i] for every i. It panics if the
// slices differ in length or hold an index out of range.
func (c *Confusion) AddAll(labels, preds []int) {
	if len(labels) != len(preds) {
		panic(fmt.Sprintf("metrics: Confusion.AddAll: %d labels, %d predictions", len(labels), len(preds)))
	}
	for i, t := range labels {
		c.Add(t, preds[i])
	}
}

// Total returns the number of samples counted.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Correct returns the number of samples on the diagonal.
func (c *Confusion) Correct() int {
	n := 0
	for i, row := range c.Counts {
		n += row[i]
	}
	return n
}

// Accuracy returns the fraction of samples predicted correctly, or 0 when
// the matrix is empty.
func (c *Confusion) Accuracy() float64 {
	total := c.Total()
	if total == 0 {
		return 0
	}
	return float64(c.Correct()) / float64(total)
}

// Pair is an off-diagonal cell of a confusion matrix: Count samples of class
// True were predicted as class Pred.
type Pair struct {
	True  int `json:"true"`
	Pred  int `json:"pred"`
	Count int `json:"count"`
}

// MostConfused returns the k off-diagonal cells with the highest non-zero
// counts, sorted by count (highest first), then by true class, then by
// predicted class. k <= 0 returns every non-zero off-diagonal cell.
func MostConfused(c *Confusion, k int) []Pair {
	var pairs []Pair
	for t, row := range c.Counts {
		for p, v := range row {
			if t != p && v > 0 {
				pairs = append(pairs, Pair{True: t, Pred: p, Count: v})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.True, b.True), cmp.Compare(a.Pred, b.Pred))
	})
	if k > 0 && len(pairs) > k {
		pairs = pairs[:k]
	}
	return pairs
}
