package cli

import (
	"flag"

	"github.com/convnet-go/convnet/model"
)

// bf16Flag registers --bf16 in fs: the model multiplies in bfloat16 (see
// model.Model.UseBF16) where what says.
func bf16Flag(fs *flag.FlagSet, p *bool, what string) {
	fs.BoolVar(p, "bf16", false, "multiply in bfloat16, summing in float32, as Keras's mixed_bfloat16 policy and PyTorch's CPU autocast do: "+what+"; needs a CPU with AVX512-BF16")
}

// checkBF16 refuses --bf16 on a CPU without AVX512-BF16.
func checkBF16(on bool) error {
	if on && !model.BF16Native() {
		return usagef("--bf16: this CPU has no AVX512-BF16 instructions, so bfloat16 would run in Go, far slower than float32")
	}
	return nil
}
