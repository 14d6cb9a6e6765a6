package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
	"github.com/convnet-go/convnet/web"
)

func init() {
	register(command{
		name:    "serve",
		summary: "serve the interactive demo: draw, predict and look inside every layer",
		run:     runServe,
	})
}

// ServeOptions are the flags of "convnet serve".
type ServeOptions struct {
	Models []string // model files; none means the built-in models
	Addr   string   // host:port to listen on
	// MaxMemory bounds what a model may need to run on one image, and what
	// its copies answering requests at once may take together (0: the
	// library's default).
	MaxMemory int64
	// LogFormat is "text" or "json": the request records and warnings on
	// the standard error.
	LogFormat string
	// LogLevel is "debug" (the probes' and metrics' requests too), "info"
	// (every other request), "warn", "error" (server errors only) or "off".
	LogLevel string
	// DrainDelay and DrainTimeout shape the shutdown on SIGTERM or SIGINT
	// (web.Options): /readyz answers 503 for DrainDelay while requests are
	// still accepted, then the requests in flight get up to DrainTimeout.
	DrainDelay   time.Duration
	DrainTimeout time.Duration
	// BF16 makes the models multiply in bfloat16 (model.ClassifierOptions).
	BF16 bool
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts ServeOptions
	fs := newFlagSet("serve", "[--model FILE ...] [--addr 127.0.0.1:8080] [--log-format text|json] [--log-level info]", stderr)
	fs.Var((*stringList)(&opts.Models), "model", "a model file or built-in model to serve (repeat for several; default: every built-in model)")
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&opts.LogFormat, "log-format", "text", "request log records on the standard error: text or json")
	fs.StringVar(&opts.LogLevel, "log-level", "info", "least level logged: debug (the probes and metrics too), info (every request), warn, error (server errors only) or off")
	fs.DurationVar(&opts.DrainDelay, "drain-delay", 0, "on SIGTERM, how long /readyz answers 503 while requests are still accepted, so that load balancers stop sending")
	fs.DurationVar(&opts.DrainTimeout, "drain-timeout", 15*time.Second, "on SIGTERM, how long the requests in flight may take to finish once the listener is closed")
	maxMemoryFlag(fs, &opts.MaxMemory)
	bf16Flag(fs, &opts.BF16, "the models' products")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (use --model FILE)", rest[0])
	}
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
		return usagef("--addr %q: %v", opts.Addr, err)
	}
	if opts.DrainDelay < 0 || opts.DrainTimeout <= 0 {
		return usagef("--drain-delay %v, --drain-timeout %v: want a delay of 0 or more and a positive timeout", opts.DrainDelay, opts.DrainTimeout)
	}
	if _, err := newLogger(io.Discard, opts.LogFormat, opts.LogLevel); err != nil {
		return err
	}
	return serve(ctx, opts, stdout, stderr)
}

// newLogger returns the request logger that --log-format and --log-level
// describe (default text and info), writing to w; nil for level "off".
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch level {
	case "off":
		return nil, nil
	case "", "info":
	case "debug", "warn", "error":
		lv.UnmarshalText([]byte(level))
	default:
		return nil, usagef("--log-level %q: want debug, info, warn, error or off", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// serve loads the models and answers HTTP requests until ctx is cancelled.
func serve(ctx context.Context, opts ServeOptions, stdout, stderr io.Writer) error {
	if err := checkBF16(opts.BF16); err != nil {
		return err
	}
	var models []web.Model
	add := func(name string, m *model.Sequential) error {
		c, err := model.NewClassifier(m, model.ClassifierOptions{MaxMemory: cmp.Or(opts.MaxMemory, model.DefaultMaxMemory), BF16: opts.BF16})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		models = append(models, web.Model{Name: name, Classifier: c})
		return nil
	}
	if len(opts.Models) == 0 {
		for _, name := range pretrained.Names() {
			m, err := pretrained.Load(name)
			if err == nil {
				err = add(name, m)
			}
			if err != nil {
				return err
			}
		}
	}
	for _, path := range opts.Models {
		m, _, err := loadModel(path, opts.MaxMemory)
		if err == nil {
			err = add(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), m)
		}
		if err != nil {
			return err
		}
	}
	logger, err := newLogger(stderr, opts.LogFormat, opts.LogLevel)
	if err != nil {
		return err
	}
	srv, err := web.NewServer(models, web.Options{Logger: logger, DrainDelay: opts.DrainDelay, DrainTimeout: opts.DrainTimeout})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Name)
	}
	fmt.Fprintf(stdout, "serving %d model(s) [%s] at http://%s/ (Ctrl+C to stop)\n", len(models), strings.Join(names, ", "), ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}
