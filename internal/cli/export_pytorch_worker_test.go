package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// torchProject runs testdata/torch_project.py on a project with images
// (raw, convnet's HWC order) and their labels, and returns its output folder.
func torchProject(t *testing.T, project string, images [][]float32, labels []int, extra ...string) string {
	t.Helper()
	py := python(t, "torch", "torchvision", "numpy")
	out := t.TempDir()
	var px, ys []float32
	for i, img := range images {
		px = append(px, img...)
		ys = append(ys, float32(labels[i]))
	}
	writeFloats(t, filepath.Join(out, "images.f32"), px)
	writeFloats(t, filepath.Join(out, "labels.f32"), ys)
	args := append([]string{project, filepath.Join(out, "images.f32"), filepath.Join(out, "labels.f32"), out}, extra...)
	if err := runTorchProject(py, args); err != nil {
		t.Fatalf("torch_project.py %s: %v", strings.Join(extra, " "), err)
	}
	return out
}

// torchWorkers are idle torch_project.py --serve processes: each imports
// torch once (seconds) and then runs a case in a fraction of a second.
// They end with the test binary, which closes their input.
var torchWorkers = make(chan *torchWorker, 8)

type torchWorker struct {
	in  io.Writer
	out *bufio.Scanner
}

// runTorchProject runs torch_project.py with args in an idle worker, or a
// new one when all are busy.
func runTorchProject(py string, args []string) error {
	var w *torchWorker
	select {
	case w = <-torchWorkers:
	default:
		cmd := exec.Command(py, "testdata/torch_project.py", "--serve")
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		w = &torchWorker{in: in, out: bufio.NewScanner(out)}
		w.out.Buffer(nil, 16<<20)
	}
	line, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return err
	}
	if !w.out.Scan() {
		return fmt.Errorf("the worker ended: %v", w.out.Err())
	}
	var reply struct{ Error *string }
	if err := json.Unmarshal(w.out.Bytes(), &reply); err != nil {
		return fmt.Errorf("the worker's answer %q: %v", w.out.Bytes(), err)
	}
	select {
	case torchWorkers <- w:
	default: // more workers than the pool holds: this one ends with the binary
	}
	if reply.Error != nil {
		return errors.New(*reply.Error)
	}
	return nil
}
