package cli

// checkTuning refuses a flag given on the command line that tunes
// something the run does not do, which would have no effect.
func (o *trainOptions) checkTuning() error {
	for _, g := range []struct {
		flags []string
		on    bool
		needs string
	}{
		{[]string{"step-every", "step-factor"}, o.Schedule == "step", "--schedule step"},
		{[]string{"cosine-alpha"}, o.Schedule == "cosine", "--schedule cosine"},
		{[]string{"plateau-monitor", "plateau-factor", "plateau-patience", "plateau-min-lr", "plateau-min-delta", "plateau-cooldown"}, o.Schedule == "plateau", "--schedule plateau"},
		{[]string{"early-stopping-monitor", "restore-best"}, o.EarlyPatience > 0, "--early-stopping N"},
		{[]string{"checkpoint-best-only", "checkpoint-monitor"}, o.Checkpoint != "", "--checkpoint PATH"},
		{[]string{"validation-mode"}, o.ValSplit > 0, "--validation-split"},
		{[]string{"lr-find-start", "lr-find-end", "lr-find-steps"}, o.LRFind, "--lr-find"},
		{[]string{"swa-lr", "swa-anneal-epochs", "swa-anneal-strategy"}, o.SWAStart > 0, "--swa-start N"},
		{[]string{"erasing-value"}, o.Aug.c.Erasing > 0, "--random-erasing"},
		{[]string{"cval"}, o.Aug.c.FillMode == "constant", "--fill-mode constant"},
		{[]string{"csv-label"}, o.Source.CSV != "", "--csv"},
		{[]string{"color-mode", "height", "width"}, o.Source.Images != "", "--images"},
	} {
		for _, f := range g.flags {
			if o.set[f] && !g.on {
				return usagef("--%s goes with %s: without it, it would change nothing", f, g.needs)
			}
		}
	}
	return nil
}
