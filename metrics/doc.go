// Package metrics scores a classifier's predictions: the confusion matrix,
// accuracy, per-class precision, recall and F1 in the layout of
// scikit-learn's classification_report, and the most confused pairs of classes.
//
// # Conventions
//
// Classes are integer indices 0..n-1. A [Confusion] counts predictions with
// rows for the true class and columns for the predicted class, the layout of
// tf.math.confusion_matrix and sklearn.metrics.confusion_matrix.
//
// Scores follow scikit-learn with zero_division=0: a class that was never
// predicted has precision 0, a class with no true samples has recall 0, and F1
// is 0 when precision and recall are both 0. Every class 0..n-1 is reported,
// as when classification_report is given labels=range(n), so the macro average
// counts classes absent from the data as zeros.
//
// Reference: https://scikit-learn.org/stable/modules/generated/sklearn.metrics.classification_report.html
//
// # Text output
//
// Class names may contain right-to-left letters (the Arabic glyphs of AHCD
// class names). Text tables append a left-to-right mark (U+200E) after such a
// name, so a terminal that applies the Unicode bidirectional algorithm keeps
// the numbers that follow in their columns; the mark has no width and is not
// counted when aligning.
package metrics
