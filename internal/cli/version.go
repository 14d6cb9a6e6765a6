package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/convnet-go/convnet/internal/version"
)

func init() {
	register(command{name: "version", summary: "print the version of convnet and the Go release that built it", run: runVersion})
}

// runVersion prints "convnet VERSION GO OS/ARCH", such as
// "convnet devel-3e91272b1c4d go1.26.0 linux/amd64"; "convnet --version"
// does the same.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", stderr)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	_, err = fmt.Fprintf(stdout, "convnet %s %s %s/%s\n", version.String(), version.Go(), runtime.GOOS, runtime.GOARCH)
	return err
}
