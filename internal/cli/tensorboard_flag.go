package cli

import (
	"fmt"
	"strconv"
)

// updateFreq is the value of --tensorboard-update-freq, Keras's
// update_freq: "epoch" (0), "batch" (1) or a number of training steps.
type updateFreq struct{ n *int }

func (u updateFreq) String() string {
	switch {
	case u.n == nil || *u.n == 0:
		return "epoch"
	case *u.n == 1:
		return "batch"
	}
	return strconv.Itoa(*u.n)
}

func (u updateFreq) Set(v string) error {
	switch v {
	case "epoch":
		*u.n = 0
		return nil
	case "batch":
		*u.n = 1
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("want epoch, batch or a number of training steps (at least 1)")
	}
	*u.n = n
	return nil
}
