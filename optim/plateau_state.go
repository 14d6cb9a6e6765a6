package optim

// PlateauState is the progress a [ReduceLROnPlateau] has made, saved with a
// training checkpoint so that a resumed run reduces the rate when an
// uninterrupted one would.
type PlateauState struct {
	Best     float64 `json:"best"`
	Wait     int     `json:"wait"`
	Cooldown int     `json:"cooldown"`
	Started  bool    `json:"started"`
}

// State returns the callback's progress.
func (r *ReduceLROnPlateau) State() PlateauState {
	return PlateauState{Best: r.best, Wait: r.wait, Cooldown: r.cooldown, Started: r.started}
}

// SetState restores progress returned by State.
func (r *ReduceLROnPlateau) SetState(s PlateauState) {
	r.best, r.wait, r.cooldown, r.started = s.Best, s.Wait, s.Cooldown, s.Started
}
