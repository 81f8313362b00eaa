package workload

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx/banksim"
)

// Transfer is one row of the hub's transfers table, as the checker reads it.
type Transfer struct {
	ID, Kind, BankTranID, TranDay, LimitDay string
	Amount                                  int64
	UserSeqNo                               string
	DebitBank, DebitAccount                 string
	CreditBank, CreditAccount               string
	State                                   string
	Reversed                                bool
	RspCode                                 string
	CreatedAt                               time.Time
}

func (t *Transfer) String() string {
	return fmt.Sprintf("%s (%s %s/%s %d KRW %s:%s→%s:%s %s reversed=%v rsp=%s)", t.ID, t.Kind, t.BankTranID, t.TranDay,
		t.Amount, t.DebitBank, t.DebitAccount, t.CreditBank, t.CreditAccount, t.State, t.Reversed, t.RspCode)
}

// LimitUsage is one row of limit_usage.
type LimitUsage struct {
	Day, Kind, UserSeqNo string
	Used                 int64
}

// Movement is one row of interbank_movements.
type Movement struct {
	TransferID, FromBank, ToBank string
	Amount                       int64
}

// LedgerOp is one operation in a bank's ledger.
type LedgerOp struct {
	Bank string
	banksim.OperationRecord
}

// ProtocolOp is what a bank answered over the bank protocol when asked about
// an operation id: "applied", "rejected" or "absent" (ENOTFOUND).
type ProtocolOp struct {
	Bank, Status, RspCode string
}

// Final is everything the checker audits, gathered once the nemesis has
// stopped and every transfer is final (or the wait for it ran out).
type Final struct {
	Seed     uint64
	Ops      []*Op
	Accounts []*Account
	Contract Contract
	// Before and After are the balances of every account in play and of the
	// contract account, read from the banks before the first and after the
	// last transfer.
	Before, After map[AccountKey]int64
	Transfers     []Transfer
	Usage         []LimitUsage
	Movements     []Movement
	// Ledger is every operation of every bank, read from their ledgers after
	// the run; Protocol is what the banks answered about each transfer's
	// operation ids over the bank protocol.
	Ledger   []LedgerOp
	Protocol map[string]ProtocolOp
	// Results is the final transfer/result answer about each op, by
	// bank_tran_id.
	Results map[string]Attempt
	// Limits: the TSP's daily withdrawal limit at the end, its raises during
	// the run, and the per-transfer limit.
	WithdrawLimit    int64
	LimitChanges     []LimitChange
	PerTransferLimit int64
}

// Violation is one broken invariant.
type Violation struct {
	Check  string // which of the checks
	Detail string
}

func (v Violation) String() string { return v.Check + ": " + v.Detail }

// Checks, in the order Check runs them.
const (
	CheckConservation = "1 conservation"
	CheckNonNegative  = "2 no negative balance"
	CheckExactlyOnce  = "3 exactly once"
	CheckFinal        = "4 every transfer final"
	CheckResults      = "5 answers agree with the ledgers"
	CheckLimits       = "6 limits"
	CheckSettlement   = "7 settlement"
)

// Check audits a run and returns every violation it finds.
func Check(f *Final) []Violation {
	c := &checker{f: f}
	c.index()
	c.conservation()
	c.nonNegative()
	c.exactlyOnce()
	c.final()
	c.results()
	c.limits()
	c.settlement()
	return c.vs
}

type checker struct {
	f  *Final
	vs []Violation

	transfers map[string]*Transfer  // by id
	byTranID  map[string]*Transfer  // by bank_tran_id/tran_day
	ops       map[string]*Op        // by bank_tran_id/tran_day
	ledger    map[string][]LedgerOp // by operation id
	involved  map[AccountKey]bool
}

func (c *checker) fail(check, format string, args ...any) {
	c.vs = append(c.vs, Violation{check, fmt.Sprintf(format, args...)})
}

func tranKey(id, day string) string { return id + "/" + day }

func (c *checker) index() {
	f := c.f
	c.transfers = map[string]*Transfer{}
	c.byTranID = map[string]*Transfer{}
	for i := range f.Transfers {
		t := &f.Transfers[i]
		c.transfers[t.ID] = t
		k := tranKey(t.BankTranID, t.TranDay)
		if prev, ok := c.byTranID[k]; ok {
			c.fail(CheckExactlyOnce, "bank_tran_id %s has two transfers: %s and %s", k, prev, t)
		}
		c.byTranID[k] = t
	}
	c.ops = map[string]*Op{}
	for _, op := range f.Ops {
		c.ops[tranKey(op.BankTranID, op.TranDay())] = op
	}
	c.ledger = map[string][]LedgerOp{}
	for _, l := range f.Ledger {
		c.ledger[l.ID] = append(c.ledger[l.ID], l)
	}
	c.involved = map[AccountKey]bool{f.Contract.Key(): true}
	for _, a := range f.Accounts {
		c.involved[a.Key()] = true
	}
}

// conservation: transfers only move money between the accounts in play, so
// their total is what it was.
func (c *checker) conservation() {
	var before, after int64
	for k := range c.involved {
		b, okb := c.f.Before[k]
		a, oka := c.f.After[k]
		if !okb || !oka {
			c.fail(CheckConservation, "no balance of %s before (%v) or after (%v)", k, okb, oka)
			continue
		}
		before, after = before+b, after+a
	}
	if before != after {
		c.fail(CheckConservation, "the accounts in play held %d KRW before and %d after (%+d)", before, after, after-before)
	}
}

func (c *checker) nonNegative() {
	for _, k := range sortedKeys(c.f.After) {
		if c.f.After[k] < 0 {
			c.fail(CheckNonNegative, "%s ends with %d KRW", k, c.f.After[k])
		}
	}
	for _, l := range c.f.Ledger {
		if l.Status == "applied" && l.AfterBalance < 0 {
			c.fail(CheckNonNegative, "operation %s left %s:%s at %d KRW", l.ID, l.Bank, l.AccountNum, l.AfterBalance)
		}
	}
}

// legs are the operations a transfer may have at the banks.
type leg struct {
	suffix  string
	bank    string
	account string
	credit  bool
}

func legs(t *Transfer) []leg {
	return []leg{
		{"-D", t.DebitBank, t.DebitAccount, false},
		{"-C", t.CreditBank, t.CreditAccount, true},
		{"-R", t.DebitBank, t.DebitAccount, true},
	}
}

// status returns what the ledger holds under id: "applied", "rejected" or
// "absent".
func (c *checker) status(id string) string {
	ls := c.ledger[id]
	if len(ls) == 0 {
		return "absent"
	}
	return ls[0].Status
}

// exactlyOnce: every transfer moved its money at most once, in the legs its
// final state says, and the banks moved no money that no transfer explains.
func (c *checker) exactlyOnce() {
	f := c.f
	// Every operation at a bank belongs to a transfer leg and matches it.
	for id, ls := range c.ledger {
		if len(ls) > 1 {
			c.fail(CheckExactlyOnce, "operation id %s recorded %d times (banks %v)", id, len(ls), ls)
		}
		l := ls[0]
		tid, suffix := id[:max(len(id)-2, 0)], id[max(len(id)-2, 0):]
		t, ok := c.transfers[tid]
		if !ok {
			c.fail(CheckExactlyOnce, "bank %s has operation %s (%s %d KRW on %s) of no transfer", l.Bank, id, l.Status, l.Amount, l.AccountNum)
			continue
		}
		var want *leg
		for _, lg := range legs(t) {
			if lg.suffix == suffix {
				want = &lg
			}
		}
		switch {
		case want == nil:
			c.fail(CheckExactlyOnce, "operation %s is no leg of %s", id, t)
		case l.Bank != want.bank || l.AccountNum != want.account || l.Credit != want.credit || l.Amount != t.Amount:
			c.fail(CheckExactlyOnce, "operation %s at %s (%s credit=%v %d KRW) does not match %s", id, l.Bank, l.AccountNum, l.Credit, l.Amount, t)
		}
	}
	// Each transfer's legs are those of its state.
	for i := range f.Transfers {
		t := &f.Transfers[i]
		d, cr, r := c.status(t.ID+"-D"), c.status(t.ID+"-C"), c.status(t.ID+"-R")
		ok := true
		switch {
		case t.State == "completed":
			ok = d == "applied" && cr == "applied" && r == "absent" && !t.Reversed
		case t.State == "failed" && !t.Reversed:
			ok = d != "applied" && cr == "absent" && r == "absent"
		case t.State == "failed" && t.Reversed:
			ok = d == "applied" && cr != "applied" && r == "applied"
		default:
			// Unfinished: reported by check 4; whatever moved must still be
			// explainable by a transfer that will finish.
			ok = !(cr == "applied" && r != "absent") && !(d != "applied" && (cr != "absent" || r != "absent"))
		}
		if !ok {
			c.fail(CheckExactlyOnce, "%s has ledger legs D=%s C=%s R=%s", t, d, cr, r)
		}
		// The banks answer over the protocol what their ledgers hold.
		for _, lg := range legs(t) {
			p, asked := f.Protocol[t.ID+lg.suffix]
			if asked && p.Status != c.status(t.ID+lg.suffix) {
				c.fail(CheckExactlyOnce, "bank %s says operation %s is %s, its ledger %s", p.Bank, t.ID+lg.suffix, p.Status, c.status(t.ID+lg.suffix))
			}
		}
		// The transfer is the one the client asked for.
		op, ok := c.ops[tranKey(t.BankTranID, t.TranDay)]
		if !ok {
			c.fail(CheckExactlyOnce, "%s answers no request of the workload", t)
			continue
		}
		a := op.Account
		var wantDebit, wantCredit AccountKey
		if op.Kind == "withdraw" {
			wantDebit, wantCredit = a.Key(), f.Contract.Key()
		} else {
			wantDebit, wantCredit = f.Contract.Key(), a.Key()
		}
		if t.Kind != op.Kind || t.Amount != op.Amount || (AccountKey{t.DebitBank, t.DebitAccount}) != wantDebit ||
			(AccountKey{t.CreditBank, t.CreditAccount}) != wantCredit {
			c.fail(CheckExactlyOnce, "%s is not what %s asked for", t, op)
		}
	}
	// Every account's balance moved by exactly its applied operations.
	delta := map[AccountKey]int64{}
	for _, l := range f.Ledger {
		if l.Status != "applied" {
			continue
		}
		k := AccountKey{l.Bank, l.AccountNum}
		if !c.involved[k] {
			c.fail(CheckExactlyOnce, "operation %s moved money on %s, which is not in play", l.ID, k)
		}
		if l.Credit {
			delta[k] += l.Amount
		} else {
			delta[k] -= l.Amount
		}
	}
	for _, k := range sortedKeys(c.involved) {
		if b, a := f.Before[k], f.After[k]; a-b != delta[k] {
			c.fail(CheckExactlyOnce, "%s went from %d to %d KRW (%+d) but its applied operations sum to %+d", k, b, a, a-b, delta[k])
		}
	}
}

func (c *checker) final() {
	n := 0
	for _, t := range c.f.Transfers {
		if t.State != "completed" && t.State != "failed" {
			if n < 20 {
				c.fail(CheckFinal, "%s is still %s", &t, t.State)
			}
			n++
		}
	}
	if n > 20 {
		c.fail(CheckFinal, "… %d unfinished transfers in all", n)
	}
}

// results: what the hub told the client — during the run and in the final
// transfer/result — agrees with the transfer's final state, and so with the
// ledgers that check 3 tied the state to.
func (c *checker) results() {
	for _, op := range c.f.Ops {
		k := tranKey(op.BankTranID, op.TranDay())
		t, exists := c.byTranID[k]
		state := "absent"
		if exists {
			state = t.State
		}
		unknown := false // an attempt whose answer was lost: the hub may have acted on it
		for i, a := range op.Attempts {
			bad := ""
			switch a.Outcome {
			case Unexpected:
				bad = "an unexpected answer"
			case Completed:
				if state != "completed" {
					bad = "completed"
				}
			case Failed:
				if state != "failed" {
					bad = "failed"
				}
			case InProgress:
				if !exists {
					bad = "in progress"
				}
			case Refused:
				if exists && !unknown {
					bad = "refused"
				}
			case NotFound:
				// A transfer the hub had already acknowledged cannot vanish.
				for _, prev := range op.Attempts[:i] {
					if prev.End.Before(a.Start) && (prev.Outcome == InProgress || prev.Outcome == Completed || prev.Outcome == Failed) {
						bad = "not found after " + string(prev.Outcome)
					}
				}
			case Unknown:
				unknown = true
			}
			if bad != "" {
				c.fail(CheckResults, "%s: attempt %d said %s (%s) but the transfer is %s", op, i+1, bad, a, state)
			}
		}
		r, asked := c.f.Results[op.BankTranID]
		if !asked {
			continue
		}
		want := map[string]Outcome{"completed": Completed, "failed": Failed, "absent": NotFound}[state]
		if want == "" {
			want = InProgress
		}
		if r.Outcome != want {
			c.fail(CheckResults, "%s: transfer/result says %s (%s) but the transfer is %s", op, r.Outcome, r, state)
		}
	}
}

// limits: no accepted withdrawal exceeds the per-transfer limit; the
// withdrawals that did not fail never exceed the daily limit, neither at the
// end nor before any raise of it; and limit_usage holds exactly what the
// transfers that did not fail consumed (failed ones give their amount back).
func (c *checker) limits() {
	f := c.f
	type key struct{ day, kind, seq string }
	want := map[key]int64{}
	for _, t := range f.Transfers {
		if t.Kind == "withdraw" && f.PerTransferLimit > 0 && t.Amount > f.PerTransferLimit {
			c.fail(CheckLimits, "%s exceeds the per-transfer limit %d", &t, f.PerTransferLimit)
		}
		if t.State == "failed" {
			continue
		}
		want[key{t.LimitDay, t.Kind, ""}] += t.Amount
		if t.Kind == "withdraw" {
			want[key{t.LimitDay, t.Kind, t.UserSeqNo}] += t.Amount
		}
	}
	got := map[key]int64{}
	for _, u := range f.Usage {
		got[key{u.Day, u.Kind, u.UserSeqNo}] = u.Used
	}
	for _, k := range slices.Collect(maps.Keys(mergeKeys(want, got))) {
		if want[k] != got[k] {
			c.fail(CheckLimits, "limit_usage %s/%s/%q is %d KRW; the transfers that did not fail sum to %d", k.day, k.kind, k.seq, got[k], want[k])
		}
	}
	for k, sum := range want {
		if k.kind == "withdraw" && k.seq == "" && f.WithdrawLimit > 0 && sum > f.WithdrawLimit {
			c.fail(CheckLimits, "withdrawals on %s sum to %d KRW, over the daily limit %d", k.day, sum, f.WithdrawLimit)
		}
	}
	// Before each raise the limit was Old: what was accepted by then and did
	// not fail fits in it. A millisecond of margin covers timestamp rounding.
	for _, ch := range f.LimitChanges {
		sums := map[string]int64{}
		for _, t := range f.Transfers {
			if t.Kind == "withdraw" && t.State != "failed" && t.CreatedAt.Before(ch.At.Add(-time.Millisecond)) {
				sums[t.LimitDay] += t.Amount
			}
		}
		for day, sum := range sums {
			if sum > ch.Old {
				c.fail(CheckLimits, "withdrawals on %s accepted before %s sum to %d KRW, over the limit %d then in force",
					day, ch.At.Format("15:04:05.000"), sum, ch.Old)
			}
		}
	}
}

func mergeKeys[K comparable](a, b map[K]int64) map[K]int64 {
	m := maps.Clone(a)
	for k := range b {
		m[k] += 0
	}
	return m
}

// settlement: one interbank movement per completed transfer and none for
// others; the banks' net positions sum to zero, and each equals the net change
// of the accounts in play at that bank.
func (c *checker) settlement() {
	f := c.f
	seen := map[string]bool{}
	pos := map[string]int64{}
	for _, m := range f.Movements {
		if seen[m.TransferID] {
			c.fail(CheckSettlement, "transfer %s has two movements", m.TransferID)
		}
		seen[m.TransferID] = true
		t, ok := c.transfers[m.TransferID]
		switch {
		case !ok:
			c.fail(CheckSettlement, "movement of unknown transfer %s", m.TransferID)
		case t.State != "completed":
			c.fail(CheckSettlement, "movement of %s, which did not complete", t)
		case m.FromBank != t.DebitBank || m.ToBank != t.CreditBank || m.Amount != t.Amount:
			c.fail(CheckSettlement, "movement %s→%s %d KRW does not match %s", m.FromBank, m.ToBank, m.Amount, t)
		}
		pos[m.FromBank] -= m.Amount
		pos[m.ToBank] += m.Amount
	}
	for _, t := range f.Transfers {
		if t.State == "completed" && !seen[t.ID] {
			c.fail(CheckSettlement, "%s completed without an interbank movement", &t)
		}
	}
	var sum int64
	change := map[string]int64{}
	for k := range c.involved {
		change[k.Bank] += f.After[k] - f.Before[k]
	}
	for _, b := range slices.Sorted(maps.Keys(mergeKeys(pos, change))) {
		sum += pos[b]
		if pos[b] != change[b] {
			c.fail(CheckSettlement, "bank %s's net position is %+d KRW but its accounts in play changed by %+d", b, pos[b], change[b])
		}
	}
	if sum != 0 {
		c.fail(CheckSettlement, "net positions sum to %+d KRW", sum)
	}
}

func sortedKeys[V any](m map[AccountKey]V) []AccountKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b AccountKey) int { return strings.Compare(a.String(), b.String()) })
}
