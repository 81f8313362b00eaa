package banksim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/obxhub/obx"
)

// Faults are the failures a simulated bank injects on purpose, so that the hub's
// timeouts, retries, circuit breakers and recovery can be exercised. The zero
// value injects nothing.
//
// Every call except Code, Name and Status goes through the faults in this
// order: Down, then Maintenance, then Latency, then one random draw that
// selects at most one of ErrorRate, TimeoutRate and LostResponseRate.
type Faults struct {
	// Latency delays every call. A call whose context ends first returns ETIMEOUT.
	Latency time.Duration
	// ErrorRate is the probability (0..1) of a transient failure: EUNAVAILABLE,
	// with nothing applied.
	ErrorRate float64
	// TimeoutRate is the probability (0..1) that the bank never answers: the call
	// blocks until its context ends and returns ETIMEOUT. Nothing is applied.
	TimeoutRate float64
	// LostResponseRate is the probability (0..1) that a Debit or Credit is
	// applied but its answer is lost: the call then blocks until its context
	// ends and returns ETIMEOUT, and Operation reports the operation applied.
	// For other calls it acts as TimeoutRate.
	LostResponseRate float64
	// Maintenance refuses calls with EUNAVAILABLE wrapping obx.ErrBankMaintenance
	// until MaintenanceUntil, or indefinitely when MaintenanceUntil is zero.
	Maintenance      bool
	MaintenanceUntil time.Time
	// Down refuses calls with EUNAVAILABLE wrapping obx.ErrBankDown.
	Down bool
}

// Validate returns EINVALID if a rate is outside 0..1, the rates sum past 1,
// or Latency is negative.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"Error rate", f.ErrorRate}, {"Timeout rate", f.TimeoutRate}, {"Lost response rate", f.LostResponseRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			return obx.Errorf(obx.EINVALID, "%s must be between 0 and 1.", r.name)
		}
	}
	if f.ErrorRate+f.TimeoutRate+f.LostResponseRate > 1 {
		return obx.Errorf(obx.EINVALID, "Error, timeout and lost response rates must not sum past 1.")
	}
	if f.Latency < 0 {
		return obx.Errorf(obx.EINVALID, "Latency must not be negative.")
	}
	return nil
}

// maintenanceAt reports whether a maintenance window is open at now.
func (f Faults) maintenanceAt(now time.Time) bool {
	return f.Maintenance && (f.MaintenanceUntil.IsZero() || now.Before(f.MaintenanceUntil))
}

// SetFaults replaces the bank's faults; they apply to calls that start after it
// returns. Returns EINVALID if f does not validate.
func (b *Bank) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	b.faults = f
	b.mu.Unlock()
	b.logger.Info("banksim faults set", "latency", f.Latency, "error_rate", f.ErrorRate,
		"timeout_rate", f.TimeoutRate, "lost_response_rate", f.LostResponseRate,
		"maintenance", f.Maintenance, "down", f.Down)
	return nil
}

// Faults returns the bank's current faults.
func (b *Bank) Faults() Faults {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faults
}

// fault is what the draw selected for one call.
type fault int

const (
	faultNone fault = iota
	faultLostResponse
)

// inject applies the faults to a call that moves no money.
func (b *Bank) inject(ctx context.Context) error {
	f, err := b.injectOp(ctx)
	if err == nil && f == faultLostResponse {
		// A read whose answer is lost is just a timeout.
		return b.hang(ctx)
	}
	return err
}

// injectOp applies the faults to a call and returns faultLostResponse when the
// caller should apply its operation and then hang.
func (b *Bank) injectOp(ctx context.Context) (fault, error) {
	b.mu.Lock()
	f := b.faults
	r := b.rng.Float64() // drawn on every call, so a seed replays the same sequence
	b.mu.Unlock()

	switch {
	case f.Down:
		return faultNone, obx.WrapError(obx.EUNAVAILABLE, "The bank is not available.", obx.ErrBankDown)
	case f.maintenanceAt(b.now()):
		msg := "The bank is in maintenance."
		if !f.MaintenanceUntil.IsZero() {
			msg = fmt.Sprintf("The bank is in maintenance until %s.", f.MaintenanceUntil.UTC().Format(time.RFC3339))
		}
		return faultNone, obx.WrapError(obx.EUNAVAILABLE, msg, obx.ErrBankMaintenance)
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return faultNone, obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", ctx.Err())
		case <-b.closed:
			return faultNone, obx.WrapError(obx.EUNAVAILABLE, "The bank is closed.", obx.ErrBankDown)
		}
	}
	switch {
	case r < f.ErrorRate:
		return faultNone, obx.WrapError(obx.EUNAVAILABLE, "The bank failed to process the request. Try again.", errInjected)
	case r < f.ErrorRate+f.TimeoutRate:
		return faultNone, b.hang(ctx)
	case r < f.ErrorRate+f.TimeoutRate+f.LostResponseRate:
		return faultLostResponse, nil
	}
	return faultNone, nil
}

// hang blocks until the caller gives up (or the bank closes), as a bank that
// never answers does. Callers without a deadline hang until they cancel.
func (b *Bank) hang(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", ctx.Err())
	case <-b.closed:
		return obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", errClosed)
	}
}

// Causes of injected failures, for operators reading logs.
var (
	errInjected = errors.New("banksim: injected failure")
	errClosed   = errors.New("banksim: bank closed")
)
