package cli

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Docker cannot run on every machine that runs the tests, so the Dockerfile
// is checked without it: its build command is run as it stands and its
// binary is checked to be static and to do what the image's HEALTHCHECK and
// CMD ask of it.

const dockerfilePath = "../../Dockerfile"

// instruction is one instruction of a Dockerfile: "RUN" and the rest.
type instruction struct {
	cmd, args string
}

// dockerfile reads the Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if line == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if rest, ok := strings.CutSuffix(l, `\`); ok {
			line += rest + " "
			continue
		}
		line += l
		cmd, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		line = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// execForm parses an instruction's JSON array form, such as
// ["/convnet", "serve"], after the given options (--interval=10s ...).
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	args := in.args
	for strings.HasPrefix(args, "--") {
		_, args, _ = strings.Cut(args, " ")
	}
	args = strings.TrimSpace(strings.TrimPrefix(args, "CMD"))
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("Dockerfile: %s %s: want the exec form, a JSON array (%v)", in.cmd, in.args, err)
	}
	return argv
}

// imageBinary is where the image's build writes the binary.
const imageBinary = "/out/convnet"

// buildImageBinary runs the go build command of the Dockerfile, as the
// image's build does (through sh -c, with VERSION set as the build argument
// is), writing the binary into a temporary folder instead of /out.
func buildImageBinary(t *testing.T, version string) string {
	t.Helper()
	var build string
	for _, in := range dockerfile(t) {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	if build == "" || !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-o "+imageBinary+" ") {
		t.Fatalf("Dockerfile: no RUN CGO_ENABLED=0 go build ... -o %s ...: %q", imageBinary, build)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build convnet with")
	}
	bin := filepath.Join(t.TempDir(), "convnet")
	cmd := exec.Command("sh", "-c", strings.Replace(build, imageBinary, bin, 1))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's %s: %v\n%s", build, err, out)
	}
	return bin
}

// TestDockerfile builds the image's binary with the Dockerfile's command,
// checks that it is static, serves the built-in models with the image's
// CMD, and answers the image's HEALTHCHECK; and that the image runs it as a
// non-root user on a minimal base.
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the check builds the command")
	}
	const version = "v0.0.0-dockerfile-test"
	bin := buildImageBinary(t, version)
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		libs, err := f.ImportedLibraries()
		interp := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if err != nil || len(libs) > 0 || interp {
			t.Errorf("the image's binary is not static: libraries %v (%v), interpreter %v", libs, err, interp)
		}
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "convnet "+version+" ") {
		t.Errorf("convnet version = %q, %v; want the build's VERSION %s", out, err, version)
	}

	var from, user, entrypoint, cmd, healthcheck []string
	for _, in := range dockerfile(t) {
		switch in.cmd {
		case "FROM":
			from = strings.Fields(in.args)
		case "USER":
			user = []string{in.args}
		case "ENTRYPOINT":
			entrypoint = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		case "HEALTHCHECK":
			healthcheck = execForm(t, in)
		}
	}
	if len(from) == 0 || !strings.HasPrefix(from[0], "gcr.io/distroless/static") && from[0] != "scratch" {
		t.Errorf("the image's base is %v, want distroless static or scratch", from)
	}
	if uid, _, _ := strings.Cut(strings.Join(user, ""), ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the image runs as user %q, want a non-root user", user)
	}
	if !slices.Equal(entrypoint, []string{"/convnet"}) || len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("ENTRYPOINT %q, CMD %q: want /convnet serve ...", entrypoint, cmd)
	}
	// The HEALTHCHECK asks the port the CMD listens on.
	i := slices.Index(cmd, "--addr")
	j := slices.Index(healthcheck, "--url")
	if i < 0 || j < 0 || i+1 >= len(cmd) || j+1 >= len(healthcheck) || healthcheck[0] != "/convnet" || healthcheck[1] != "healthcheck" {
		t.Fatalf("CMD %q, HEALTHCHECK %q: want serve --addr ADDR and /convnet healthcheck --url URL", cmd, healthcheck)
	}
	_, port, _ := net.SplitHostPort(cmd[i+1])
	if !strings.HasPrefix(healthcheck[j+1], "http://127.0.0.1:"+port+"/readyz") {
		t.Errorf("HEALTHCHECK asks %s, want the /readyz of the port serve listens on (%s)", healthcheck[j+1], cmd[i+1])
	}

	// Serve as the image does, on a free port of loopback instead.
	r := startReplica(t, bin, append(slices.Clone(cmd), "--addr", "127.0.0.1:0")...)
	if !strings.Contains(r.banner, "[ahcd, mnist]") {
		t.Errorf("the image serves %q, want the built-in models ahcd and mnist", r.banner)
	}
	check := exec.Command(bin, append(slices.Clone(healthcheck[1:j]), "--url", "http://"+r.addr+"/readyz")...)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("the HEALTHCHECK command: %v: %s", err, out)
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Errorf("convnet serve exited with %d after SIGTERM, want 0; stderr:\n%s", code, r.stderr.String())
	}
	for line := range strings.Lines(r.stderr.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("with the image's CMD, a log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(r.stderr.String(), `"msg":"shutting down`) {
		t.Errorf("no shutdown record on the standard error:\n%s", r.stderr.String())
	}
}
