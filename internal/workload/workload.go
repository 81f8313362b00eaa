package workload

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Account is a customer's account in play: registered with the TSP, so
// transfers name it by fintech use number.
type Account struct {
	BankCode      string
	Number        string // full number; the bank's key for balances
	FintechUseNum string
	UserSeqNo     string
	HolderName    string
	Token         string // the customer's access token (scope transfer) for withdrawals
	Closed        bool   // closed at the bank after registration: every debit and credit is refused
}

// Key identifies an account across banks.
func (a *Account) Key() AccountKey { return AccountKey{a.BankCode, a.Number} }

// AccountKey identifies an account across banks.
type AccountKey struct{ Bank, Number string }

func (k AccountKey) String() string { return k.Bank + ":" + k.Number }

// Outcome is what one answer told the client about its transfer.
type Outcome string

// Outcomes. Unknown and InProgress are not final: the client asks again with
// the same bank_tran_id and body.
const (
	// Unknown: no answer, or an answer that says nothing about the transfer
	// (a timeout, a refused connection, A0003, A0007, A0017, a gateway error).
	Unknown Outcome = "unknown"
	// InProgress: the hub accepted the transfer and has not finished it (A0001,
	// or an item without bank_rsp_code).
	InProgress Outcome = "in_progress"
	// Completed: money moved (bank_rsp_code 000).
	Completed Outcome = "completed"
	// Failed: final failure with a bank's response code; nothing moved, or the
	// debit was returned.
	Failed Outcome = "failed"
	// Refused: refused before acceptance (a limit); the hub recorded nothing.
	Refused Outcome = "refused"
	// NotFound: transfer/result knows no such transfer (A0310).
	NotFound Outcome = "not_found"
	// Unexpected: an answer the workload never provokes, e.g. A0326 for a
	// retry with the same body, or a format error. Always a violation.
	Unexpected Outcome = "unexpected"
)

// Final reports whether o settles the transfer for the client.
func (o Outcome) Final() bool {
	return o == Completed || o == Failed || o == Refused || o == Unexpected
}

// Attempt is one request about one transfer and what its answer said.
type Attempt struct {
	Start, End  time.Time
	Result      bool // a transfer/result query rather than the transfer request
	Outcome     Outcome
	RspCode     string // the item's or the response's rsp_code; "" without an answer
	BankRspCode string
	Detail      string // the error or message, for failure reports
}

func (a Attempt) String() string {
	via := "post"
	if a.Result {
		via = "result"
	}
	s := fmt.Sprintf("%s %s %s rsp=%s bank=%q", a.Start.Format("15:04:05.000"), via, a.Outcome, a.RspCode, a.BankRspCode)
	if a.Detail != "" {
		s += " " + a.Detail
	}
	return s
}

// Op is one transfer the workload asked for: one bank_tran_id, sent with the
// same body on every retry. Its worker owns it until the run ends.
type Op struct {
	Worker     int
	Kind       string // "withdraw" or "deposit"
	BankTranID string
	TranDtime  string // KST, YYYYMMDDhhmmss; its date keys bank_tran_id
	Amount     int64
	Account    *Account // the customer's side
	NameCheck  bool     // deposits: name_check_option on
	Attempts   []Attempt
}

// TranDay is the KST date that, with BankTranID, identifies the transfer.
func (o *Op) TranDay() string { return o.TranDtime[:8] }

// Last returns the op's last attempt's outcome, Unknown if none.
func (o *Op) Last() Outcome {
	if len(o.Attempts) == 0 {
		return Unknown
	}
	return o.Attempts[len(o.Attempts)-1].Outcome
}

// Seen reports whether any attempt's outcome was o.
func (o *Op) Seen(out Outcome) bool {
	for _, a := range o.Attempts {
		if a.Outcome == out {
			return true
		}
	}
	return false
}

func (o *Op) String() string {
	return fmt.Sprintf("%s %s/%s %d KRW %s", o.Kind, o.BankTranID, o.TranDay(), o.Amount, o.Account.Key())
}

// History collects the ops of a run. Workers add ops; the checker reads them
// once the workers are done.
type History struct {
	mu  sync.Mutex
	ops []*Op

	// Counters the limit controller and progress reports read while the run goes on.
	Withdrawals   atomic.Int64 // withdrawal ops decided (final outcome or given up)
	LimitRefusals atomic.Int64 // withdrawal ops refused with A0103
}

// Add records op.
func (h *History) Add(op *Op) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// Ops returns the ops recorded so far.
func (h *History) Ops() []*Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Op(nil), h.ops...)
}
