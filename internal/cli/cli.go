// Package cli implements the convnet command. Each subcommand lives in its
// own file: it parses its flags into an Options struct and runs against the
// injected standard output and error, so tests drive it without a process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
)

// command is one subcommand of convnet.
type command struct {
	name    string
	summary string
	// run parses args and runs the command; it returns the exit code.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is filled by each subcommand's file in an init function.
var commands []command

func register(c command) { commands = append(commands, c) }

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // bad flags or arguments
)

// usageError marks an error caused by the command line rather than the work.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Main runs convnet with the given arguments and returns the process exit code.
// SIGINT and SIGTERM cancel the command's context; long commands stop cleanly.
// A second signal while the command winds down ends the process at once.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signalContext()
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM,
// after which the signals get their default action back: a second Ctrl-C
// kills the process (files are written atomically, so none is left broken).
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
		case <-ctx.Done():
		}
		// The default action is back before anyone sees the cancellation.
		signal.Stop(ch)
		cancel()
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 2 && args[0] == "help" { // help COMMAND: the command's flags
		if !slices.ContainsFunc(commands, func(c command) bool { return c.name == args[1] }) {
			fmt.Fprintf(stderr, "convnet: unknown command %q (run \"convnet help\")\n", args[1])
			return exitUsage
		}
		args = []string{args[1], "-h"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "convnet: unknown command %q (run \"convnet help\")\n", args[0])
		return exitUsage
	}
	err := commands[i].run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "convnet %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "convnet %s: %v\n", args[0], err)
		return exitError
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "convnet builds, trains, inspects and serves convolutional neural networks.")
	fmt.Fprintln(w, "\nUsage: convnet <command> [flags]\n\nCommands:")
	sorted := slices.Clone(commands)
	slices.SortFunc(sorted, func(a, b command) int { return strings.Compare(a.name, b.name) })
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, c := range sorted {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun \"convnet <command> -h\" for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
// Parse errors are returned (and printed once by Main, with a hint); -h
// prints the usage to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("convnet "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(stderr)
		defer fs.SetOutput(io.Discard)
		fmt.Fprintf(stderr, "Usage: convnet %s %s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs and turns flag errors into usage errors.
// Positional arguments are returned; the flags come before them.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return nil, err
		}
		return nil, usageError{fmt.Errorf("%w (run \"%s -h\" for the flags)", err, fs.Name())}
	}
	return fs.Args(), nil
}

// parseFlagsAnywhere is parseFlags for commands whose flags may also come
// between or after the positional arguments, which it returns in order;
// after "--" every argument is positional.
func parseFlagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		rest, err := parseFlags(fs, args)
		if err != nil || len(rest) == 0 {
			return positional, err
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}
