package obx

import (
	"context"
	"fmt"
	"time"
)

// SettlementCycle is one business day's settlement cycle as staff see it:
// while open, each bank's net position so far; once closed, the report.
type SettlementCycle struct {
	Settlement           // Positions, Movements, Total; ClosedAt is zero while open
	End        time.Time // the cycle's cut-off: it may be closed from then on
}

// Closed reports whether the cycle is closed.
func (c *SettlementCycle) Closed() bool { return !c.ClosedAt.IsZero() }

// Closable reports whether the cycle may be closed at now: open and past
// its cut-off.
func (c *SettlementCycle) Closable(now time.Time) bool { return !c.Closed() && !now.Before(c.End) }

// CycleStore reads and closes settlement cycles. *sqlstore.Cycles implements it.
type CycleStore interface {
	// Cycles returns the latest cycles, newest day first.
	Cycles(ctx context.Context, limit int) ([]*SettlementCycle, error)
	// Cycle returns day's cycle; an unknown day is an open, empty cycle.
	// EINVALID if day is not a date YYYYMMDD.
	Cycle(ctx context.Context, day string) (*SettlementCycle, error)
	// CloseCycle closes day's cycle at at if it is open and past its
	// cut-off (ECONFLICT before), writing audit(report)'s entry in the same
	// transaction, and returns the report. A closed cycle's report is
	// returned unchanged, with no entry. EINVALID for a malformed day.
	CloseCycle(ctx context.Context, day string, at time.Time, audit func(*Settlement) *AuditEntry) (*Settlement, error)
}

// Settlements lets the center's staff follow and close settlement cycles:
// every role reads them; only admins close one, which the audit trail records.
type Settlements struct {
	Store CycleStore
	Now   func() time.Time
}

func (s *Settlements) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// Cycles returns the latest limit cycles, newest first.
func (s *Settlements) Cycles(ctx context.Context, a Actor, limit int) ([]*SettlementCycle, error) {
	if err := requireStaff(a, "read"); err != nil {
		return nil, err
	}
	return s.Store.Cycles(ctx, limit)
}

// Cycle returns one day's cycle.
func (s *Settlements) Cycle(ctx context.Context, a Actor, day string) (*SettlementCycle, error) {
	if err := requireStaff(a, "read"); err != nil {
		return nil, err
	}
	return s.Store.Cycle(ctx, day)
}

// Close closes day's cycle (admins only) once its cut-off has passed, and
// returns its report; movements completing later go to the next cycle.
// Closing a closed cycle returns the same report.
func (s *Settlements) Close(ctx context.Context, a Actor, day string) (*Settlement, error) {
	if err := requireStaff(a, "admin"); err != nil {
		return nil, err
	}
	now := s.now()
	return s.Store.CloseCycle(ctx, day, now, func(st *Settlement) *AuditEntry {
		return &AuditEntry{At: now, Actor: a.String(), Action: "settlement.close", Subject: "settlement:" + day,
			Before: "open", After: "closed", Note: fmt.Sprintf("%d movements, gross %d KRW, %d banks", st.Movements, st.Total, len(st.Positions))}
	})
}
