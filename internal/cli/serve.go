package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

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
	// MaxMemory bounds what a model may need to run on one image (0: the
	// library's default).
	MaxMemory int64
}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts ServeOptions
	fs := newFlagSet("serve", "[--model FILE ...] [--addr 127.0.0.1:8080]", stderr)
	fs.Var((*stringList)(&opts.Models), "model", "a model file or built-in model to serve (repeat for several; default: every built-in model)")
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	maxMemoryFlag(fs, &opts.MaxMemory)
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
	return serve(ctx, opts, stdout, stderr)
}

// serve loads the models and answers HTTP requests until ctx is cancelled.
func serve(ctx context.Context, opts ServeOptions, stdout, stderr io.Writer) error {
	var models []web.Model
	add := func(name string, m *model.Sequential) error {
		c, err := model.NewClassifier(m, model.ClassifierOptions{})
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
	srv, err := web.NewServer(models, web.Options{Log: stderr})
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
