package metrics_test

import (
	"fmt"
	"os"

	"github.com/convnet-go/convnet/metrics"
)

func Example() {
	c := metrics.NewConfusion(3)
	c.AddAll([]int{0, 1, 2, 2, 2}, []int{0, 0, 2, 2, 1})

	metrics.Report(c, []string{"class 0", "class 1", "class 2"}).WriteText(os.Stdout)
	for _, p := range metrics.MostConfused(c, 2) {
		fmt.Printf("true %d predicted as %d: %d\n", p.True, p.Pred, p.Count)
	}
	// Output:
	//               precision    recall  f1-score   support
	//
	//      class 0       0.50      1.00      0.67         1
	//      class 1       0.00      0.00      0.00         1
	//      class 2       1.00      0.67      0.80         3
	//
	//     accuracy                           0.60         5
	//    macro avg       0.50      0.56      0.49         5
	// weighted avg       0.70      0.60      0.61         5
	// true 1 predicted as 0: 1
	// true 2 predicted as 1: 1
}

func ExampleWriteConfusionText() {
	c := metrics.NewConfusion(3)
	c.AddAll([]int{0, 0, 1, 1, 2, 2}, []int{0, 0, 1, 2, 2, 2})
	metrics.WriteConfusionText(os.Stdout, c, []string{"cat", "dog", "bird"})
	// Output:
	// Confusion matrix: rows are true classes, columns predicted classes by index; "." is 0.
	//
	// true \ predicted 0 1 2 | total  recall
	// 0 cat            2 . . |     2  100.0%
	// 1 dog            . 1 1 |     2   50.0%
	// 2 bird           . . 2 |     2  100.0%
	// -----------------------+--------------
	// total            2 1 3 |     6
	//
	// accuracy 83.33% (5 of 6)
}
