// Package bankguard is the hub's directory of participating banks. It wraps
// every bank with a per-call timeout and a circuit breaker (sony/gobreaker), so
// that a slow or failing bank costs the hub at most its timeout per call, trips
// quickly, and never slows calls to the other banks.
package bankguard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/obxhub/obx"
)

// Config tunes the guard. Zero values take the defaults.
type Config struct {
	// Timeout bounds each call to a bank (default 5 s).
	Timeout time.Duration
	// FailureThreshold is how many consecutive infrastructure failures open the
	// breaker (default 5).
	FailureThreshold uint32
	// OpenFor is how long an open breaker refuses calls before letting a probe
	// through (default 10 s).
	OpenFor time.Duration
	// Observe, when set, is told about every call: which bank, which operation,
	// how long it took and how it ended. Metrics hang off it.
	Observe func(bank, op string, d time.Duration, err error)
	// Env, when set, is the only environment (obx.EnvSandbox for simulated
	// banks, obx.EnvLive for live connections) whose credentials may reach
	// the bank: a call on behalf of a principal of the other environment is
	// refused before it reaches the bank, so sandbox keys never move real
	// money. Calls without a principal (consent, recovery, staff) pass.
	Env string
}

// Directory implements obx.BankDirectory over guarded banks.
type Directory struct {
	mu    sync.RWMutex // protects banks
	banks map[string]*Bank
}

var _ obx.BankDirectory = (*Directory)(nil)

// New returns a directory of the given banks, each guarded per cfg.
func New(cfg Config, banks ...obx.Bank) *Directory {
	d := &Directory{banks: make(map[string]*Bank, len(banks))}
	for _, b := range banks {
		d.Add(cfg, b)
	}
	return d
}

// Add puts a bank into the directory, replacing any bank with the same code.
func (d *Directory) Add(cfg Config, b obx.Bank) {
	g := newBank(cfg, b)
	d.mu.Lock()
	d.banks[b.Code()] = g
	d.mu.Unlock()
}

// Bank implements obx.BankDirectory.
func (d *Directory) Bank(code string) (obx.Bank, error) {
	g, err := d.Guarded(code)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Guarded returns the guarded bank with code, to read its breaker state.
func (d *Directory) Guarded(code string) (*Bank, error) {
	d.mu.RLock()
	g, ok := d.banks[code]
	d.mu.RUnlock()
	if !ok {
		return nil, &obx.Error{Code: obx.ENOTFOUND, Message: fmt.Sprintf("No participating bank has code %q.", code), Err: obx.ErrUnknownBank}
	}
	return g, nil
}

// Banks implements obx.BankDirectory.
func (d *Directory) Banks() []obx.Bank {
	d.mu.RLock()
	out := make([]obx.Bank, 0, len(d.banks))
	for _, g := range d.banks {
		out = append(out, g)
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b obx.Bank) int {
		if a.Code() < b.Code() {
			return -1
		}
		if a.Code() > b.Code() {
			return 1
		}
		return 0
	})
	return out
}

// Bank is one guarded bank. It implements obx.Bank.
type Bank struct {
	bank    obx.Bank
	timeout time.Duration
	observe func(bank, op string, d time.Duration, err error)
	env     string
	cb      *gobreaker.CircuitBreaker[any]

	mu          sync.RWMutex // guards maintenance
	maintenance []obx.MaintenanceWindow
}

// Unwrap returns the bank g guards, for work that is not a customer's call
// and so does not go through the guard: pulling the bank's product catalog
// on a schedule, which has its own timeouts and must not trip the breaker
// that protects payments.
func (g *Bank) Unwrap() obx.Bank { return g.bank }

// SetMaintenance replaces the bank's daily maintenance windows: during
// one, calls are answered at once with ErrBankMaintenance, without calling
// the bank or counting against its breaker.
func (g *Bank) SetMaintenance(ws []obx.MaintenanceWindow) {
	g.mu.Lock()
	g.maintenance = ws
	g.mu.Unlock()
}

// Maintenance returns the bank's maintenance windows.
func (g *Bank) Maintenance() []obx.MaintenanceWindow {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.maintenance
}

// inMaintenance reports whether the bank is in a maintenance window now.
func (g *Bank) inMaintenance() bool { return obx.InMaintenance(g.Maintenance(), time.Now()) }

func (g *Bank) maintenanceError() error {
	return &obx.Error{Code: obx.EUNAVAILABLE, Message: fmt.Sprintf("Bank %s is in its maintenance window.", g.bank.Code()),
		Err: obx.ErrBankMaintenance}
}

var _ obx.Bank = (*Bank)(nil)

func newBank(cfg Config, b obx.Bank) *Bank {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.FailureThreshold == 0 {
		cfg.FailureThreshold = 5
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = 10 * time.Second
	}
	threshold := cfg.FailureThreshold
	return &Bank{
		bank:    b,
		timeout: cfg.Timeout,
		observe: cfg.Observe,
		env:     cfg.Env,
		cb: gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
			Name:        b.Code(),
			MaxRequests: 1,
			Timeout:     cfg.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
			// Only infrastructure trouble counts against a bank: a refusal
			// (no such account, insufficient balance) or bad input is the bank
			// working normally.
			IsSuccessful: func(err error) bool { return !infraFailure(err) },
			// The caller giving up says nothing about the bank.
			IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		}),
	}
}

func infraFailure(err error) bool {
	if err == nil {
		return false
	}
	var be *obx.BankError
	if errors.As(err, &be) {
		return false
	}
	switch obx.ErrorCode(err) {
	case obx.EUNAVAILABLE, obx.ETIMEOUT, obx.EINTERNAL:
		return !errors.Is(err, obx.ErrBankMaintenance) // planned, not a failure
	}
	return false
}

// Open reports whether the breaker is refusing calls.
func (g *Bank) Open() bool { return g.cb.State() == gobreaker.StateOpen }

// State returns the breaker state: "closed", "half-open" or "open".
func (g *Bank) State() string { return g.cb.State().String() }

// call runs fn with the per-bank timeout through the breaker.
func call[T any](ctx context.Context, g *Bank, op string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if p := obx.PrincipalFromContext(ctx); g.env != "" && p != nil && p.Env != "" && p.Env != g.env {
		// A refusal, final like a bank's: a transfer fails instead of being retried.
		return zero, &obx.BankError{BankCode: g.bank.Code(), RspCode: obx.BankRspOther,
			Message: fmt.Sprintf("%s credentials cannot reach this %s bank", p.Env, g.env)}
	}
	if g.inMaintenance() {
		return zero, g.maintenanceError()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	v, err := g.cb.Execute(func() (any, error) {
		v, err := fn(ctx)
		if err != nil && ctx.Err() == context.DeadlineExceeded && obx.ErrorCode(err) != obx.ETIMEOUT {
			err = obx.WrapError(obx.ETIMEOUT, fmt.Sprintf("Bank %s did not answer in time.", g.bank.Code()), err)
		}
		return v, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = &obx.Error{Code: obx.EUNAVAILABLE, Message: fmt.Sprintf("Bank %s is unavailable.", g.bank.Code()),
			Err: fmt.Errorf("%w: circuit %s", obx.ErrBankDown, g.cb.State())}
	}
	if g.observe != nil {
		g.observe(g.bank.Code(), op, time.Since(start), err)
	}
	if err != nil {
		return zero, err
	}
	return v.(T), nil
}

// Code implements obx.Bank.
func (g *Bank) Code() string { return g.bank.Code() }

// Name implements obx.Bank.
func (g *Bank) Name() string { return g.bank.Name() }

// SignIn implements obx.Bank.
func (g *Bank) SignIn(ctx context.Context, login, password string) (*obx.BankCustomer, error) {
	return call(ctx, g, "signin", func(ctx context.Context) (*obx.BankCustomer, error) { return g.bank.SignIn(ctx, login, password) })
}

// Customer implements obx.Bank.
func (g *Bank) Customer(ctx context.Context, ci string) (*obx.BankCustomer, error) {
	return call(ctx, g, "customer", func(ctx context.Context) (*obx.BankCustomer, error) { return g.bank.Customer(ctx, ci) })
}

// Account implements obx.Bank.
func (g *Bank) Account(ctx context.Context, num string) (*obx.BankAccount, error) {
	return call(ctx, g, "account", func(ctx context.Context) (*obx.BankAccount, error) { return g.bank.Account(ctx, num) })
}

// Balance implements obx.Bank.
func (g *Bank) Balance(ctx context.Context, num string) (*obx.Balance, error) {
	return call(ctx, g, "balance", func(ctx context.Context) (*obx.Balance, error) { return g.bank.Balance(ctx, num) })
}

// Transactions implements obx.Bank.
func (g *Bank) Transactions(ctx context.Context, q obx.TransactionQuery) (*obx.TransactionPage, error) {
	return call(ctx, g, "transactions", func(ctx context.Context) (*obx.TransactionPage, error) { return g.bank.Transactions(ctx, q) })
}

// Debit implements obx.Bank.
func (g *Bank) Debit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return call(ctx, g, "debit", func(ctx context.Context) (*obx.OperationResult, error) { return g.bank.Debit(ctx, op) })
}

// Credit implements obx.Bank.
func (g *Bank) Credit(ctx context.Context, op obx.Operation) (*obx.OperationResult, error) {
	return call(ctx, g, "credit", func(ctx context.Context) (*obx.OperationResult, error) { return g.bank.Credit(ctx, op) })
}

// Operation implements obx.Bank.
func (g *Bank) Operation(ctx context.Context, id string) (*obx.OperationResult, error) {
	return call(ctx, g, "operation", func(ctx context.Context) (*obx.OperationResult, error) { return g.bank.Operation(ctx, id) })
}

// Status implements obx.Bank. It bypasses the breaker, so that status checks
// see a recovered bank, but reports an open breaker as down.
func (g *Bank) Status(ctx context.Context) (*obx.BankStatus, error) {
	if g.inMaintenance() {
		return &obx.BankStatus{Up: false, Maintenance: true, Message: "maintenance window"}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	st, err := g.bank.Status(ctx)
	if err != nil {
		return &obx.BankStatus{Up: false, Message: obx.ErrorMessage(err)}, nil
	}
	if g.Open() && st.Up {
		c := *st
		c.Up = false
		c.Message = "circuit open after repeated failures"
		return &c, nil
	}
	return st, nil
}
