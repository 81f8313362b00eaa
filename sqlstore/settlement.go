package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/obxhub/obx"
)

// Cutoff is the KST time of day at which a business day's settlement cycle
// ends: a movement completing at or after the cut-off on day D belongs to the
// cycle of D+1. The zero Cutoff is midnight, so cycles are KST calendar days.
// It is a duration since KST midnight, in whole minutes below 24 hours.
type Cutoff time.Duration

// ParseCutoff reads a cut-off written "HH:MM" (KST), from "00:00" to "23:59";
// "24:00" is accepted for midnight too.
func ParseCutoff(s string) (Cutoff, error) {
	if s == "24:00" {
		return 0, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, obx.Errorf(obx.EINVALID, "The settlement cut-off must be a KST time HH:MM, not %q.", s)
	}
	return Cutoff(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute), nil
}

// String returns the cut-off as "HH:MM"; midnight is "24:00", the end of the day.
func (c Cutoff) String() string {
	if c == 0 {
		return "24:00"
	}
	d := time.Duration(c)
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// shift is how far past the cut-off the next KST midnight lies: adding it to
// a KST wall time turns the cut-off into midnight.
func (c Cutoff) shift() time.Duration {
	if c == 0 {
		return 0
	}
	return 24*time.Hour - time.Duration(c)
}

// Day returns the business day (YYYYMMDD) whose settlement cycle a movement
// completing at at belongs to.
func (c Cutoff) Day(at time.Time) string {
	return at.In(kst).Add(c.shift()).Format("20060102")
}

// End returns the instant day's cycle ends: day's cut-off, or the following
// midnight for the zero Cutoff. EINVALID if day is not a date YYYYMMDD.
func (c Cutoff) End(day string) (time.Time, error) {
	d, err := time.ParseInLocation("20060102", day, kst)
	if err != nil || len(day) != 8 {
		return time.Time{}, obx.Errorf(obx.EINVALID, "The settlement date must be a date YYYYMMDD, not %q.", day)
	}
	if c == 0 {
		return d.AddDate(0, 0, 1).UTC(), nil
	}
	return d.Add(time.Duration(c)).UTC(), nil
}

// Settlement returns the report of day's settlement cycle once it is closed.
// ENOTFOUND while the cycle is open or has seen nothing yet.
func (db *DB) Settlement(ctx context.Context, day string) (*obx.Settlement, error) {
	var closedAt time.Time
	var report string
	err := db.q.QueryRowContext(ctx, `SELECT closed_at, report FROM settlement_cycles WHERE day = $1`, day).
		Scan(scanTime(&closedAt), &report)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && closedAt.IsZero()) {
		return nil, obx.Errorf(obx.ENOTFOUND, "Settlement cycle %s is not closed.", day)
	}
	if err != nil {
		return nil, fmt.Errorf("read settlement %s: %w", day, err)
	}
	var s obx.Settlement
	if err := json.Unmarshal([]byte(report), &s); err != nil {
		return nil, fmt.Errorf("settlement %s report: %w", day, err)
	}
	return &s, nil
}

// Cycles closes and reads the settlement cycles of DB, whose business days
// end at Cutoff. It guards DB.Settle against the one mistake it cannot undo:
// closing a cycle before its cut-off, which would push the rest of the
// business day's movements into the next cycle for good.
type Cycles struct {
	DB     *DB
	Cutoff Cutoff
}

var _ obx.SettlementStore = (*Cycles)(nil)

// Settle implements obx.SettlementStore for the command line (obx settle):
// CloseCycle, with the audit entry of actor "system:obx settle".
func (c *Cycles) Settle(ctx context.Context, day string, at time.Time) (*obx.Settlement, error) {
	return c.CloseCycle(ctx, day, at, func(s *obx.Settlement) *obx.AuditEntry {
		return &obx.AuditEntry{At: at.UTC(), Actor: "system:obx settle", Action: "settlement.close",
			Subject: "settlement:" + day, Before: "open", After: "closed",
			Note: fmt.Sprintf("%d movements, gross %d KRW, %d banks", s.Movements, s.Total, len(s.Positions))}
	})
}

// Settlement returns the report of day's cycle once closed: ENOTFOUND while it
// is open, EINVALID if day is not a date YYYYMMDD.
func (c *Cycles) Settlement(ctx context.Context, day string) (*obx.Settlement, error) {
	if _, err := c.Cutoff.End(day); err != nil {
		return nil, err
	}
	return c.DB.Settlement(ctx, day)
}

var _ obx.CycleStore = (*Cycles)(nil)

// Cycles implements obx.CycleStore: the latest cycles that have seen a
// movement or were closed, newest first.
func (c *Cycles) Cycles(ctx context.Context, limit int) ([]*obx.SettlementCycle, error) {
	if limit <= 0 || limit > 500 {
		limit = 60
	}
	var days []string
	err := eachRow(ctx, c.DB.db, `SELECT day FROM settlement_cycles ORDER BY day DESC LIMIT $1`, []any{limit},
		func(r *sql.Rows) error {
			var d string
			if err := r.Scan(&d); err != nil {
				return err
			}
			days = append(days, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("settlement cycles: %w", err)
	}
	out := make([]*obx.SettlementCycle, 0, len(days))
	for _, d := range days {
		cy, err := c.Cycle(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, cy)
	}
	return out, nil
}

// Cycle implements obx.CycleStore. An open cycle's positions are summed
// from its movements so far.
func (c *Cycles) Cycle(ctx context.Context, day string) (*obx.SettlementCycle, error) {
	end, err := c.Cutoff.End(day)
	if err != nil {
		return nil, err
	}
	st, err := c.DB.Settlement(ctx, day)
	switch {
	case err == nil:
		return &obx.SettlementCycle{Settlement: *st, End: end}, nil
	case obx.ErrorCode(err) != obx.ENOTFOUND:
		return nil, err
	}
	cy := &obx.SettlementCycle{Settlement: obx.Settlement{Day: day, Positions: map[string]int64{}}, End: end}
	if err := sumMovements(ctx, c.DB.db, day, &cy.Settlement); err != nil {
		return nil, err
	}
	return cy, nil
}

// sumMovements adds day's interbank movements to s: each bank's net
// position, the count and the gross total.
func sumMovements(ctx context.Context, q queryer, day string, s *obx.Settlement) error {
	err := eachRow(ctx, q, `SELECT from_bank, to_bank, SUM(amount), COUNT(*) FROM interbank_movements
		WHERE cycle_day = $1 GROUP BY from_bank, to_bank`, []any{day}, func(r *sql.Rows) error {
		var from, to string
		var sum, count int64
		if err := r.Scan(&from, &to, &sum, &count); err != nil {
			return err
		}
		s.Positions[from] -= sum
		s.Positions[to] += sum
		s.Movements += count
		s.Total += sum
		return nil
	})
	if err != nil {
		return fmt.Errorf("sum movements of %s: %w", day, err)
	}
	return nil
}

// CloseCycle implements obx.CycleStore. It closes as DB.Settle does, taking
// the cycle's row lock first so that movements committed before it are
// counted and ones waiting for it find the cycle closed, and appends the
// audit entry in the same transaction.
func (c *Cycles) CloseCycle(ctx context.Context, day string, at time.Time, audit func(*obx.Settlement) *obx.AuditEntry) (*obx.Settlement, error) {
	end, err := c.Cutoff.End(day)
	if err != nil {
		return nil, err
	}
	if at.Before(end) {
		if s, err := c.DB.Settlement(ctx, day); err == nil || obx.ErrorCode(err) != obx.ENOTFOUND {
			return s, err
		}
		return nil, obx.Errorf(obx.ECONFLICT, "Settlement cycle %s is open until %s KST (cut-off %s).",
			day, end.In(kst).Format("2006-01-02 15:04"), c.Cutoff)
	}
	db := c.DB
	var s *obx.Settlement
	err = db.transact(ctx, func(tx *sql.Tx) error {
		var closed bool
		if s, closed, err = db.closeCycle(ctx, tx, day, at); err != nil || !closed {
			return err
		}
		if e := audit(s); e != nil {
			return db.appendAudit(ctx, tx, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
