package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Runner drives the workload: Workers goroutines, each asking for one
// transfer after another until the run ends, retrying every request whose
// outcome is open with the same bank_tran_id and body.
type Runner struct {
	Client   *Client
	Accounts []*Account // the customers' accounts in play
	History  *History
	Seed     uint64
	Workers  int // at most 100: a bank_tran_id holds the worker's number in two digits
	// DepositShare is the probability that an op is a deposit (default 0.4).
	DepositShare float64
	// MaxAmount bounds amounts; withdrawals sometimes go up to 1.2× it, past
	// a per-transfer limit of MaxAmount.
	MaxAmount int64
	// MaxAttempts bounds the requests about one op (default 10), and
	// MaxInProgress the answers "in progress" in a row (default 4): the hub
	// has the transfer and will finish it, so the client moves on. An op left
	// open is settled by the final audit.
	MaxAttempts, MaxInProgress int
}

// Run runs the workers until ctx ends and waits for them. An op in progress
// when ctx ends gets no more retries.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for w := range r.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(ctx, w)
		}()
	}
	wg.Wait()
}

func (r *Runner) worker(ctx context.Context, w int) {
	// Two streams: what to ask for follows from the seed alone; the jitter of
	// retries depends on outcomes, so it must not shift the choices.
	choose := rand.New(rand.NewPCG(r.Seed, uint64(w)+1))
	jitter := rand.New(rand.NewPCG(r.Seed^0x6a6974746572, uint64(w)+1))
	depositShare := r.DepositShare
	if depositShare == 0 {
		depositShare = 0.4
	}
	seq := 0
	newOp := func(kind string, acct *Account, dtime string) *Op {
		seq++
		op := &Op{Worker: w, Kind: kind, BankTranID: fmt.Sprintf("%sU%02d%07d", r.Client.UseCode, w, seq),
			TranDtime: dtime, Account: acct}
		r.History.Add(op)
		return op
	}
	for ctx.Err() == nil {
		dtime := TranDtime(r.Client.Now())
		if choose.Float64() < depositShare {
			n := 1
			if choose.IntN(10) < 3 {
				n = 2 + choose.IntN(2)
			}
			nameCheck := choose.IntN(2) == 0
			ops := make([]*Op, n)
			for i := range ops {
				ops[i] = newOp("deposit", r.Accounts[choose.IntN(len(r.Accounts))], dtime)
				ops[i].Amount = 1000 + choose.Int64N(r.MaxAmount-1000+1)
				ops[i].NameCheck = nameCheck
			}
			body := r.Client.DepositBody(ops)
			r.retry(ctx, jitter, ops, func() []Attempt { return r.Client.Deposit(context.Background(), ops, body) })
		} else {
			op := newOp("withdraw", r.Accounts[choose.IntN(len(r.Accounts))], dtime)
			max := r.MaxAmount
			if choose.IntN(20) == 0 {
				max = r.MaxAmount * 6 / 5
			}
			op.Amount = 1000 + choose.Int64N(max-1000+1)
			body := r.Client.WithdrawBody(op)
			r.retry(ctx, jitter, []*Op{op}, func() []Attempt {
				return []Attempt{r.Client.Withdraw(context.Background(), op, body)}
			})
			r.History.Withdrawals.Add(1)
			if op.Last() == Refused {
				if op.Attempts[len(op.Attempts)-1].RspCode == "A0103" {
					r.History.LimitRefusals.Add(1)
				}
				// A refusal costs the hub next to nothing; a client that
				// retried at once would spin. Back off as an app would.
				sleep(ctx, 50*time.Millisecond+time.Duration(jitter.Int64N(int64(200*time.Millisecond))))
			}
		}
	}
}

// retry sends ops' request until every op has a final outcome, the attempts
// run out or the run ends. An op in progress is sometimes looked up with
// transfer/result instead, as KFTC tells TSPs to.
func (r *Runner) retry(ctx context.Context, jitter *rand.Rand, ops []*Op, send func() []Attempt) {
	maxAttempts, maxInProgress := r.MaxAttempts, r.MaxInProgress
	if maxAttempts == 0 {
		maxAttempts = 10
	}
	if maxInProgress == 0 {
		maxInProgress = 4
	}
	inProgress := 0
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var open []*Op
		allInProgress := true
		for _, op := range ops {
			if !op.Last().Final() {
				open = append(open, op)
				allInProgress = allInProgress && op.Last() == InProgress
			}
		}
		if len(open) == 0 {
			return
		}
		if allInProgress && attempt > 0 {
			if inProgress++; inProgress == maxInProgress {
				return
			}
		} else {
			inProgress = 0
		}
		if attempt > 0 {
			// 150 ms doubling to at most 2.4 s, with ±25% jitter.
			d := min(150*time.Millisecond<<(attempt-1), 2400*time.Millisecond)
			d = d*3/4 + time.Duration(jitter.Int64N(int64(d/2)+1))
			if !sleep(ctx, d) {
				return
			}
		}
		if attempt > 0 && allInProgress && jitter.IntN(2) == 0 {
			for i, a := range r.Client.Results(context.Background(), open) {
				open[i].Attempts = append(open[i].Attempts, a)
			}
			continue
		}
		for i, a := range send() {
			ops[i].Attempts = append(ops[i].Attempts, a)
		}
	}
}

// sleep waits d or until ctx ends, reporting whether it waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
