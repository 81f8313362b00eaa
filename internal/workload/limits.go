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
// it starts low, and each tick in which withdrawals were refused for the limit
// (A0103) it raises the limit to let through (1−Target)/Target withdrawals of
// Mean for each refusal. While the limit is reached, every refusal buys room
// for more, so about Target of the withdrawals are refused whatever the
// machine's speed, and the limit is reached again and again: then concurrent
// acceptances could overrun it.
type LimitController struct {
	Set     func(ctx context.Context, limit int64) error // writes the contract's limit
	History *History
	Start   int64         // the limit at the start
	Mean    int64         // the mean amount of a withdrawal
	Target  float64       // wanted share of A0103 refusals, e.g. 0.25
	Every   time.Duration // tick (default 200 ms)
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
		every = 200 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := c.History.LimitRefusals.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r := c.History.LimitRefusals.Load()
		dr := r - last
		last = r
		if dr == 0 {
			continue // the limit was not reached: it has room left
		}
		c.mu.Lock()
		old := c.limit
		c.mu.Unlock()
		room := float64(dr) * (1 - c.Target) / c.Target * float64(c.Mean)
		ch := LimitChange{At: c.Now(), Old: old, New: old + int64(room) + 1}
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
