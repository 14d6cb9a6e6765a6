// Command convnet builds, trains, inspects and serves convolutional neural
// networks for image classification. Run "convnet help" for the commands.
package main

import (
	"os"

	"github.com/convnet-go/convnet/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
