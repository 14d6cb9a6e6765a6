package torchexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
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

// pyDoc makes s safe inside a Python docstring: backslashes and double
// quotes are escaped, lines are joined.
func pyDoc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", " ").Replace(s)
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
// pySet writes the strings as a Python set.
func pySet(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = pyStr(s)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func pyInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return pyTuple(s)
}

// pySizes writes a shape as a Python tuple, 0 as None (any size).
func pySizes(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
		if n == 0 {
			s[i] = "None"
		}
	}
	return pyTuple(s)
}

// pyTuple writes the Python tuple of the expressions s.
func pyTuple(s []string) string {
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

// pythonReserved are names a layer's attribute must not take: Python's
// keywords and the attributes nn.Module and Net already have.
var pythonReserved = strings.Fields(`False None True and as assert async await break class continue def del
	elif else except finally for from global if import in is lambda nonlocal not or pass raise return try
	while with yield
	T_destination add_module apply bfloat16 buffers call_super_init children cpu cuda double dump_patches
	eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu
	load_state_dict modules named_buffers named_children named_modules named_parameters parameters
	register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
	register_full_backward_hook register_load_state_dict_post_hook register_module register_parameter
	requires_grad_ set_extra_state share_memory state_dict to to_empty train training type xpu zero_grad
	rescale mean_image channel_mean channel_std x self torch nn F`)

var notIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

// attr returns a Python attribute name for the layer called name, unique
// in Net: the name itself when it can be one.
func (w *walker) attr(name string) string {
	a := notIdent.ReplaceAllString(name, "_")
	if a == "" || a[0] >= '0' && a[0] <= '9' || a[0] == '_' {
		a = "layer_" + a
	}
	for _, r := range pythonReserved {
		if a == r {
			a += "_"
		}
	}
	base := a
	for i := 2; w.attrs[a]; i++ {
		a = fmt.Sprintf("%s_%d", base, i)
	}
	w.attrs[a] = true
	return a
}
