package torchexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Python literals for the generated code.

// pyFloat writes v as a Python float literal that reads back as v:
// "0.001", "1e-08", "2.0".
func pyFloat(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		panic(fmt.Sprintf("torchexport: pyFloat(%v)", v))
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// pyStr writes s as a Python string literal (a JSON string is one; non-ASCII
// letters stay as they are, which Python 3 source allows).
func pyStr(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic("torchexport: pyStr: " + err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// pyStrs writes a list of strings.
func pyStrs(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = pyStr(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// pyInts writes integers as a Python tuple.
func pyInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// pyPair writes a pair as a Python tuple.
func pyPair(p [2]int) string { return pyInts(p[:]) }

// pyBool writes a Python boolean.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
