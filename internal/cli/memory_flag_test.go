package cli

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/version"
	"github.com/convnet-go/convnet/nn"
)

func TestMemorySizeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0: an error
	}{
		{"512MiB", 512 << 20}, {"2GiB", 2 << 30}, {"1TiB", 1 << 40}, {"64KiB", 64 << 10}, {"100B", 100}, {"4096", 4096},
		{"0", 0}, {"-1GiB", 0}, {"1.5GiB", 0}, {"2GB", 0}, {"GiB", 0}, {"", 0}, {"8388608TiB", 0},
	}
	for _, tt := range tests {
		var n int64
		s := &memorySize{n: &n}
		err := s.Set(tt.in)
		if tt.want == 0 && err == nil || tt.want != 0 && (err != nil || n != tt.want || s.String() != tt.in) {
			t.Errorf("Set(%q): %d, %v; want %d", tt.in, n, err, tt.want)
		}
	}
}

// A model over the memory limit is refused by every command that loads
// one, with a hint to the flag; the flag lets summary describe it.
func TestMaxMemory(t *testing.T) {
	path := hostileModel(t, "wide.safetensors", []int{8192, 8192, 1},
		&nn.GlobalAveragePooling2D{}, &nn.Dense{Units: 2, Activation: "softmax"})
	refused := path + ": the model needs 1.0 GiB to run on one sample of shape [8192 8192 1], more than the limit of 512 MiB (--max-memory raises the limit)"
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"summary", "--model", path}, exitError, "", refused},
		{[]string{"evaluate", "--model", path, "--test-csv", "none.csv"}, exitError, "", refused},
		{[]string{"serve", "--model", path}, exitError, "", refused},
		{[]string{"predict", "--model", path, "none.png"}, exitError, "", refused},
		{[]string{"summary", "--model", path, "--max-memory", "1GiB"}, exitError, "", "more than the limit of 1 GiB"},
		{[]string{"summary", "--model", path, "--max-memory", "2GiB"}, exitOK, "Memory to run one sample: 1.0 GiB\nWritten by convnet " + version.String() + " (" + version.Go() + ")\n", ""},
		{[]string{"summary", "--model", "tutorial"}, exitOK, "Memory to run one sample: 2.0 MiB\n", ""},
		{[]string{"predict", "--model", path, "--max-memory", "lots", "x.png"}, exitUsage, "", `invalid value "lots" for flag -max-memory`},
		{[]string{"serve", "--max-memory", "0"}, exitUsage, "", "want a positive size such as 512MiB"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("convnet %s: exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
}
