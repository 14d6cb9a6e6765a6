package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// fields reads typed values from a config map, remembering the first error
// and which of its keys were read (in used, each once; a few per config,
// which a slice holds with less allocation than a map).
type fields struct {
	typ  string
	m    map[string]any
	used []string
	err  error
}

func (f *fields) get(key string) (any, bool) {
	v, ok := f.m[key]
	if ok && !slices.Contains(f.used, key) {
		if f.used == nil {
			f.used = make([]string, 0, len(f.m))
		}
		f.used = append(f.used, key)
	}
	return v, ok && v != nil
}

func (f *fields) fail(key string, want string, v any) {
	if f.err == nil {
		got := fmt.Sprintf("%#v", v)
		if b, err := json.Marshal(v); err == nil {
			got = string(b) // as the config wrote it
		}
		f.err = fmt.Errorf("nn: %s config: field %q: want %s, got %s", f.typ, key, want, got)
	}
}

func (f *fields) finish() error {
	if f.err != nil {
		return f.err
	}
	if len(f.used) == len(f.m) {
		return nil
	}
	var unknown []string
	for k := range f.m {
		if !slices.Contains(f.used, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("nn: %s config: unknown field %q", f.typ, unknown[0])
	}
	return nil
}

// number converts an int or float64 config value.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func integer(v any) (int, bool) {
	n, ok := number(v)
	if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<31 {
		return 0, false
	}
	return int(n), true
}

func (f *fields) int(key string) int {
	v, ok := f.get(key)
	if !ok {
		return 0
	}
	n, ok := integer(v)
	if !ok {
		f.fail(key, "an integer", v)
	}
	return n
}

func (f *fields) float(key string) float64 {
	v, ok := f.get(key)
	if !ok {
		return 0
	}
	n, ok := number(v)
	if !ok {
		f.fail(key, "a number", v)
	}
	return n
}

func (f *fields) str(key string) string {
	v, ok := f.get(key)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail(key, "a string", v)
	}
	return s
}

// bool returns the value of key, or def when it is absent.
func (f *fields) bool(key string, def bool) bool {
	v, ok := f.get(key)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		f.fail(key, "true or false", v)
	}
	return b
}

// pair reads a list of two integers, or one integer used for both.
func (f *fields) pair(key string) [2]int {
	v, ok := f.get(key)
	if !ok {
		return [2]int{}
	}
	if n, ok := integer(v); ok {
		return [2]int{n, n}
	}
	var list []any
	switch s := v.(type) {
	case []any:
		list = s
	case []int:
		for _, n := range s {
			list = append(list, n)
		}
	case [2]int:
		list = []any{s[0], s[1]}
	case []float64:
		for _, n := range s {
			list = append(list, n)
		}
	}
	if len(list) == 2 {
		a, okA := integer(list[0])
		b, okB := integer(list[1])
		if okA && okB {
			return [2]int{a, b}
		}
	}
	f.fail(key, "two integers", v)
	return [2]int{}
}

// positive reads a pair as pair does, whose values, when given, must be at
// least 1 (strides, pool sizes, dilation rates): Keras refuses 0, which
// convnet's layers would read as "the default".
func (f *fields) positive(key string) [2]int {
	p := f.pair(key)
	if v, ok := f.get(key); ok && f.err == nil && (p[0] < 1 || p[1] < 1) {
		f.fail(key, "integers of at least 1", v)
	}
	return p
}

// positiveInt reads an integer as int does, at least 1 when given.
func (f *fields) positiveInt(key string) int {
	n := f.int(key)
	if v, ok := f.get(key); ok && f.err == nil && n < 1 {
		f.fail(key, "an integer of at least 1", v)
	}
	return n
}

// padding reads Keras ZeroPadding2D's padding: one integer for every side,
// two (rows above and below, columns left and right) or two pairs ((top,
// bottom), (left, right)).
func (f *fields) padding(key string) [2][2]int {
	v, ok := f.get(key)
	if !ok {
		return [2][2]int{}
	}
	if n, ok := integer(v); ok {
		return [2][2]int{{n, n}, {n, n}}
	}
	if pp, ok := v.([][]int); ok && len(pp) == 2 && len(pp[0]) == 2 && len(pp[1]) == 2 {
		return [2][2]int{{pp[0][0], pp[0][1]}, {pp[1][0], pp[1][1]}}
	}
	if list, ok := v.([]any); ok && len(list) == 2 {
		var p [2][2]int
		for i, e := range list {
			if n, ok := integer(e); ok {
				p[i] = [2]int{n, n}
				continue
			}
			sub := &fields{typ: f.typ, m: map[string]any{key: e}}
			if p[i] = sub.pair(key); sub.err != nil {
				f.fail(key, "an integer, two integers or two pairs of integers", v)
				return [2][2]int{}
			}
		}
		return p
	}
	f.fail(key, "an integer, two integers or two pairs of integers", v)
	return [2][2]int{}
}

// ints reads a list of integers; absent or null is nil.
func (f *fields) ints(key string) []int {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	var list []any
	switch s := v.(type) {
	case []any:
		list = s
	case []int:
		return slices.Clone(s)
	default:
		f.fail(key, "a list of integers", v)
		return nil
	}
	out := make([]int, len(list))
	for i, e := range list {
		n, ok := integer(e)
		if !ok {
			f.fail(key, "a list of integers", v)
			return nil
		}
		out[i] = n
	}
	return out
}

// sizes reads a shape as Keras writes one: a list of positive integers
// and nulls (None), which become 0; absent or null is nil.
func (f *fields) sizes(key string) []int {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	if s, ok := v.([]int); ok {
		return slices.Clone(s)
	}
	list, ok := v.([]any)
	out := make([]int, len(list))
	for i, e := range list {
		if e == nil {
			continue
		}
		if n, isInt := integer(e); isInt && n > 0 {
			out[i] = n
			continue
		}
		ok = false
	}
	if !ok {
		f.fail(key, "a list of positive integers and nulls", v)
		return nil
	}
	return out
}

// numberOrList reads a number, or a list of numbers (nested lists
// flattened); a list of one value is that number.
func (f *fields) numberOrList(key string) (float64, []float64) {
	switch f.m[key].(type) {
	case []any, []float64:
	default:
		return f.float(key), nil
	}
	list := f.floats(key)
	if len(list) == 1 {
		return list[0], nil
	}
	return 0, list
}

// constant reads an initializer of one value as Keras writes it: "zeros",
// "ones", or an object whose class is Zeros, Ones or Constant (Keras 2's
// {"class_name": "Constant", "config": {"value": 0.25}}, or Keras 3's with
// its module).
func (f *fields) constant(key string) float64 {
	v, ok := f.get(key)
	if !ok {
		return 0
	}
	const want = `"zeros", "ones" or a Zeros, Ones or Constant initializer`
	switch v := v.(type) {
	case string:
		switch strings.ToLower(v) {
		case "zeros", "zero":
			return 0
		case "ones", "one":
			return 1
		}
	case map[string]any:
		class, cfg, _ := kerasObject(v, "keras.initializers")
		switch class {
		case "Zeros":
			if len(cfg) == 0 {
				return 0
			}
		case "Ones":
			if len(cfg) == 0 {
				return 1
			}
		case "Constant":
			if x, ok := number(cfg["value"]); ok && len(cfg) == 1 {
				return x
			}
		}
	}
	f.fail(key, want, v)
	return 0
}

// floats reads a number or a list of numbers, nested lists flattened in
// order (as numpy's tolist writes an array); absent or null is nil.
func (f *fields) floats(key string) []float64 {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	var out []float64
	var walk func(v any) bool
	walk = func(v any) bool {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if !walk(e) {
					return false
				}
			}
			return true
		}
		if fl, ok := v.([]float64); ok {
			out = append(out, fl...)
			return true
		}
		x, ok := number(v)
		out = append(out, x)
		return ok
	}
	if !walk(v) {
		f.fail(key, "a number or a list of numbers", v)
		return nil
	}
	return out
}

// kerasObject reads a class as Keras serializes it from module (such as
// "keras.initializers"): {"class_name": ..., "config": {...}}, Keras 3's
// with its module and a null registered_name too. It returns the class
// name and the config (nil when absent); ok is false for anything else.
func kerasObject(v any, module string) (class string, cfg map[string]any, ok bool) {
	obj, isMap := v.(map[string]any)
	if !isMap {
		return "", nil, false
	}
	for k, x := range obj {
		switch {
		case k == "class_name", k == "config":
		case k == "module" && x == module, k == "registered_name" && x == nil:
		default:
			return "", nil, false
		}
	}
	class, ok = obj["class_name"].(string)
	cfg, isMap = obj["config"].(map[string]any)
	if obj["config"] != nil && !isMap {
		return "", nil, false
	}
	return class, cfg, ok
}
