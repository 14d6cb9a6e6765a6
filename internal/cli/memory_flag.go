package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/model"
)

// memorySize is the value of --max-memory: a size in bytes, written with
// the units of GOMEMLIMIT (B, KiB, MiB, GiB, TiB), such as 512MiB or 2GiB.
type memorySize struct {
	n    *int64
	text string
}

// maxMemoryFlag registers --max-memory on fs, storing bytes in n (0 until
// set: the library's default).
func maxMemoryFlag(fs *flag.FlagSet, n *int64) {
	fs.Var(&memorySize{n: n, text: fmt.Sprintf("%dMiB", model.DefaultMaxMemory>>20)}, "max-memory",
		"the memory a model may take to run, such as 512MiB or 2GiB: a model that needs more for one image is refused, and its batches and concurrent copies are sized to fit")
}

// defaultTrainMemory is what the activations of a training batch may take
// unless --max-memory says otherwise: 4 GiB, eight times what the resnet
// recipe's batch of 64 needs.
const defaultTrainMemory = 4 << 30

// trainMemoryFlag registers train's --max-memory, storing bytes in n (0
// until set: defaultTrainMemory).
func trainMemoryFlag(fs *flag.FlagSet, n *int64) {
	fs.Var(&memorySize{n: n, text: fmt.Sprintf("%dGiB", defaultTrainMemory>>30)}, "max-memory",
		"the memory the model's activations may take for one training batch, such as 4GiB: larger models or batches are refused")
}

func (s *memorySize) String() string { return s.text }

func (s *memorySize) Set(v string) error {
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}}
	num, shift := v, uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > 1<<(62-shift) {
		return fmt.Errorf("%q: want a positive size such as 512MiB or 2GiB (units B, KiB, MiB, GiB, TiB)", v)
	}
	*s.n, s.text = n<<shift, v
	return nil
}
