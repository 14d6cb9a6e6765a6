package cli

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

const signalChildEnv = "CONVNET_TEST_SIGNAL_CHILD"

// TestSignalChild is the child process of TestSecondSignal: it interrupts
// itself once, waits for the cancellation, then interrupts itself again
// as a user pressing Ctrl-C twice would, and stays alive for a while.
func TestSignalChild(t *testing.T) {
	if os.Getenv(signalChildEnv) != "1" {
		t.Skip("the child process of TestSecondSignal")
	}
	ctx, stop := signalContext()
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		os.Exit(3) // the first signal did not cancel
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(5 * time.Second)
	os.Exit(0) // the second signal was swallowed
}

// TestSecondSignal checks that the first SIGINT cancels the command and a
// second one ends the process at once, whatever the command is doing.
func TestSecondSignal(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$")
	cmd.Env = append(os.Environ(), signalChildEnv+"=1")
	start := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child: %v, want it killed by SIGINT", err)
	}
	ws := exit.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("child ended with %v (exit code %d), want killed by the second SIGINT", err, exit.ExitCode())
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the second SIGINT took %v to end the process", d)
	}
}
