package optim

// Options are the arguments every optimizer takes beside its own, those of
// Keras's base optimizer: gradient clipping, a moving average of the
// weights, gradient accumulation and the weights kept out of the weight
// decay. Each optimizer embeds them, so that their fields read as its own:
//
//	opt := &optim.Adam{}
//	opt.GlobalClipNorm, opt.UseEMA = 1, true
type Options struct {
	Clipping       // gradient clipping, off by default
	EMA            // a moving average of the weights, off by default
	Accumulation   // an update every n steps, off by default
	DecayExclusion // parameters weight decay leaves alone, none by default
}

// options is implemented by every optimizer of this package, through the
// Options each embeds.
type options interface{ opts() *Options }

func (o *Options) opts() *Options { return o }

// read sets o from the Keras arguments of cfg.
func (o *Options) read(cfg *config) {
	o.Clipping.read(cfg)
	o.EMA.read(cfg)
	o.Accumulation.read(cfg)
	o.DecayExclusion.read(cfg)
}

// config adds the arguments that are set to m, under Keras's names.
func (o Options) config(m map[string]any) map[string]any {
	return o.DecayExclusion.config(o.Accumulation.config(o.EMA.config(o.Clipping.config(m))))
}

// check reports the first argument out of its range.
func (o Options) check(opt string) error {
	for _, err := range []error{o.Clipping.check(opt), o.EMA.check(opt), o.Accumulation.check(opt), o.DecayExclusion.check(opt)} {
		if err != nil {
			return err
		}
	}
	return nil
}

// slots returns an optimizer's slot names: its own, then the average's
// when the moving average is on, then the gradient sum's with accumulation.
func (o Options) slots(own ...string) []string {
	out := append([]string{}, own...)
	if o.UseEMA {
		out = append(out, emaSlot)
	}
	if o.Accumulation.n() > 0 {
		out = append(out, accumulatorSlot)
	}
	return out
}
