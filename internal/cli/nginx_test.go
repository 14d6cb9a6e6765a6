package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nginxConf balances over the replicas and retries a request on the next
// one when a replica refuses the connection, drops it or answers 502/503,
// POSTs included (non_idempotent): the example of docs/SCALE.md, with its paths in
// a temporary folder.
const nginxConf = `%s
worker_processes 1;
pid %[2]s/nginx.pid;
daemon off;
events { worker_connections 1024; }
http {
	log_format replicas '$status "$request_method $uri" "$upstream_addr" "$upstream_status"';
	access_log %[2]s/access.log replicas;
	client_body_temp_path %[2]s/client_body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	upstream convnet {
		%[3]s
		keepalive 32;
	}
	server {
		listen %[4]s;
		client_max_body_size 8m;
		location / {
			proxy_pass http://convnet;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_next_upstream error timeout http_502 http_503 non_idempotent;
			proxy_next_upstream_tries 3;
			proxy_connect_timeout 1s;
			proxy_read_timeout 20s;
		}
	}
}
`

// nginxPath returns Debian's nginx, or skips the test; in CI (CONVNET_CI
// set), which installs it, a missing nginx fails the test.
func nginxPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		// /usr/sbin is outside a non-root user's PATH.
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			missingRuntime(t, "nginx (apt-get install nginx)", err)
		}
	}
	return bin
}

// startNginx runs nginx (bin) in the foreground in front of the replicas,
// its configuration and logs in a temporary folder, and returns its
// address and the path of its access log.
func startNginx(t *testing.T, bin string, replicas ...string) (addr, accessLog string) {
	t.Helper()
	dir := t.TempDir()
	var servers strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&servers, "server %s max_fails=1 fail_timeout=2s;\n\t\t", r)
	}
	user := "" // as root, the workers would run as nobody, who cannot write in dir
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	addr = freeAddr(t)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, user, dir, servers.String(), addr), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log"))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // a fast shutdown
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for start := time.Now(); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, filepath.Join(dir, "access.log")
		}
		errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		select {
		case <-done:
			t.Fatalf("nginx exited: %v\n%s%s", cmd.ProcessState, out.String(), errLog)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("nginx does not listen on %s after 10 s\n%s%s", addr, out.String(), errLog)
		}
	}
}

// attempt is one try of nginx at a replica, from its access log.
type attempt struct {
	replica, endpoint, status string
}

// nginxAttempts reads nginx's access log: the status of each request and
// the replicas each one was tried on.
func nginxAttempts(t *testing.T, path string) (statuses map[string]int, attempts []attempt, retried int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	statuses = map[string]int{}
	line := regexp.MustCompile(`^(\d+) "\S+ (\S+)" "([^"]*)" "([^"]*)"$`)
	for l := range strings.Lines(string(b)) {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			t.Fatalf("nginx's access log: line %q does not parse", l)
		}
		statuses[m[1]]++
		addrs, codes := strings.Split(m[3], ", "), strings.Split(m[4], ", ")
		if len(addrs) != len(codes) {
			t.Fatalf("nginx's access log: line %q: %d replicas, %d statuses", l, len(addrs), len(codes))
		}
		if len(addrs) > 1 {
			retried++
		}
		for i := range addrs {
			attempts = append(attempts, attempt{addrs[i], m[2], codes[i]})
		}
	}
	return statuses, attempts, retried
}
