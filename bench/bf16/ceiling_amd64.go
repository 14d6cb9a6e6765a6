package bf16

func fmaLoop(n int)
func bf16Loop(n int)
