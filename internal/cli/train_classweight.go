package cli

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/data"
)

// classWeightPair is one CLASS:WEIGHT of --class-weight.
type classWeightPair struct {
	class  string // an index or a name
	weight float64
}

// parseClassWeight checks --class-weight's syntax: "balanced", or
// CLASS:WEIGHT pairs joined by commas, each weight a finite number >= 0.
func parseClassWeight(spec string) (balanced bool, pairs []classWeightPair, err error) {
	if spec == "balanced" {
		return true, nil, nil
	}
	for i, p := range strings.Split(spec, ",") {
		class, w, ok := strings.Cut(p, ":")
		v, perr := strconv.ParseFloat(strings.TrimSpace(w), 64)
		switch class = strings.TrimSpace(class); {
		case !ok || class == "":
			return false, nil, usagef(`--class-weight %q: pair %d %q: want CLASS:WEIGHT (a class's index or name), or "balanced"`, spec, i+1, p)
		case perr != nil || !(v >= 0) || math.IsInf(v, 0):
			return false, nil, usagef("--class-weight %q: the weight of %s is %q: want a finite number >= 0", spec, class, w)
		}
		pairs = append(pairs, classWeightPair{class, v})
	}
	return false, pairs, nil
}

// classWeights turns --class-weight into one weight per class of the
// training set ds. "balanced" weighs class c by n / (classes · n_c), as
// scikit-learn's compute_class_weight (the weights Keras's guides use with
// class_weight), the classes counted those with images, so that the
// weights' mean over the images is 1 (a class without images weighs 1);
// pairs weigh the classes
// they name, by index or name (or a word of the name: AHCD's "alef ا" is
// alef or ا), and the others 1, as Keras's class_weight dict.
func classWeights(spec string, ds *data.Dataset) ([]float64, error) {
	balanced, pairs, err := parseClassWeight(spec)
	if err != nil {
		return nil, err
	}
	k := ds.NumClasses()
	w := make([]float64, k)
	for c := range w {
		w[c] = 1
	}
	if balanced {
		count, present := make([]int, k), 0
		for _, y := range ds.Y {
			if count[y]++; count[y] == 1 {
				present++
			}
		}
		for c, n := range count {
			if n > 0 {
				w[c] = float64(ds.Len()) / float64(present*n)
			}
		}
		return w, nil
	}
	named := make([]bool, k)
	for _, p := range pairs {
		c := slices.IndexFunc(ds.ClassNames, func(name string) bool {
			return name == p.class || slices.Contains(strings.Fields(name), p.class) // "alef ا": alef or ا
		})
		if i, err := strconv.Atoi(p.class); err == nil && c < 0 {
			c = i
		}
		if c < 0 || c >= k {
			return nil, usagef("--class-weight: class %q is not one of the data's: an index in [0, %d] or a name (%s)", p.class, k-1, abbreviate(ds.ClassNames, 6))
		}
		if named[c] {
			return nil, usagef("--class-weight: class %q is given twice", p.class)
		}
		named[c], w[c] = true, p.weight
	}
	return w, nil
}

// describeClassWeights says which classes weigh least and most.
func describeClassWeights(w []float64, names []string) string {
	lo, hi := slices.Index(w, slices.Min(w)), slices.Index(w, slices.Max(w))
	return fmt.Sprintf("from %.3g (%s) to %.3g (%s)", w[lo], names[lo], w[hi], names[hi])
}

// abbreviate lists the first n words and how many more there are.
func abbreviate(words []string, n int) string {
	if len(words) <= n {
		return strings.Join(words, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(words[:n], ", "), len(words)-n)
}
