package workload

import (
	"context"
	"sync"
	"time"
)

// LimitChange is one raise of the TSP's daily withdrawal limit. At is read
// before the new limit is written, so every withdrawal the hub accepted
// before At was checked against Old or less.
type LimitChange struct {
	At       time.Time
	Old, New int64
}

// LimitController keeps the TSP's daily withdrawal limit just out of reach:
// it starts low, and after each tick in which withdrawals were refused for the
// limit (A0103) it raises the limit by (1−Target) of what that tick's
// withdrawals asked for. The limit is thus reached again and again, which is
// when concurrent acceptances could overrun it, and with steady demand about
// Target of the withdrawals are refused, whatever the machine's speed.
type LimitController struct {
	Set     func(ctx context.Context, limit int64) error // writes the contract's limit
	History *History
	Start   int64         // the limit at the start
	Target  float64       // wanted share of A0103 refusals, e.g. 0.3
	Every   time.Duration // tick (default 1 s)
	Now     func() time.Time

	mu      sync.Mutex // guards the fields below
	limit   int64
	changes []LimitChange
}

// Init writes the starting limit.
func (c *LimitController) Init(ctx context.Context) error {
	c.mu.Lock()
	c.limit = c.Start
	c.mu.Unlock()
	return c.Set(ctx, c.Start)
}

// Run raises the limit as needed until ctx ends.
func (c *LimitController) Run(ctx context.Context) {
	every := c.Every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastW, lastR, lastA := c.History.Withdrawals.Load(), c.History.LimitRefusals.Load(), c.History.WithdrawnAmount.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w, r, a := c.History.Withdrawals.Load(), c.History.LimitRefusals.Load(), c.History.WithdrawnAmount.Load()
		dw, dr, da := w-lastW, r-lastR, a-lastA
		lastW, lastR, lastA = w, r, a
		println("DEBUG tick", time.Now().Format("05.000"), dw, dr, da)
		if dr == 0 {
			continue // the limit was not reached: it has room left
		}
		// Make room for (1−Target) of what the last tick asked for: with steady
		// demand, about Target of the next tick's withdrawals are refused.
		mean := int64(0)
		if dw > dr {
			mean = da / (dw - dr)
		}
		if mean == 0 {
			mean = c.Start / 10
		}
		c.mu.Lock()
		old := c.limit
		c.mu.Unlock()
		ch := LimitChange{At: c.Now(), Old: old, New: old + int64(float64(dw)*(1-c.Target)*float64(mean)) + 1}
		// A failed write may still have happened: treat the limit as raised
		// either way, which only makes the next prefix's check looser.
		_ = c.Set(ctx, ch.New)
		c.mu.Lock()
		c.limit = ch.New
		c.changes = append(c.changes, ch)
		c.mu.Unlock()
	}
}

// Limit returns the current limit and every raise so far.
func (c *LimitController) Limit() (int64, []LimitChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit, append([]LimitChange(nil), c.changes...)
}
