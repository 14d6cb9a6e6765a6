package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

func init() {
	register(command{
		name:    "healthcheck",
		summary: "ask a running convnet serve whether it is ready (for HEALTHCHECK in images without a shell)",
		run:     runHealthcheck,
	})
}

// runHealthcheck asks GET URL (default: this machine's /readyz on port
// 8080) and succeeds on a 2xx answer: a container image with nothing but
// convnet in it checks its server with "convnet healthcheck".
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "[--url http://127.0.0.1:8080/readyz] [--timeout 3s]", stderr)
	target := fs.String("url", "http://127.0.0.1:8080/readyz", "the URL to ask: a 2xx answer is healthy")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (use --url URL)", rest[0])
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--url %q: want an http:// or https:// URL", *target)
	}
	if *timeout <= 0 {
		return usagef("--timeout %v: want a positive duration", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s: %s", *target, resp.Status, body)
	}
	_, err = fmt.Fprintf(stdout, "%s: %s", resp.Status, body)
	return err
}
