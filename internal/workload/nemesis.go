package workload

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/obxhub/obx/banksim"
)

// Nemesis event kinds.
const (
	EventFaults   = "faults"    // set a bank's faults (the zero Faults heals it)
	EventKillHub  = "kill-hub"  // SIGKILL the hub, stay down for Pause, restart it
	EventKillBank = "kill-bank" // SIGKILL a bank's process, stay down for Pause, restart it
)

// Event is one step of the nemesis's schedule.
type Event struct {
	At     time.Duration // from the start of the run
	Kind   string
	Bank   string         // EventFaults, EventKillBank
	Faults banksim.Faults // EventFaults
	Pause  time.Duration  // kills: how long the process stays down
	Hub    int            // EventKillHub: which replica
	Name   string         // the fault mode, for reports
}

func (e Event) String() string {
	switch e.Kind {
	case EventFaults:
		return fmt.Sprintf("+%v %s %s: %s", e.At.Round(time.Millisecond), e.Bank, e.Name, describeFaults(e.Faults))
	case EventKillBank:
		return fmt.Sprintf("+%v kill bank %s for %v", e.At.Round(time.Millisecond), e.Bank, e.Pause.Round(time.Millisecond))
	}
	return fmt.Sprintf("+%v kill hub %d for %v", e.At.Round(time.Millisecond), e.Hub, e.Pause.Round(time.Millisecond))
}

func describeFaults(f banksim.Faults) string {
	switch {
	case f == banksim.Faults{}:
		return "healed"
	case f.Down:
		return "down"
	case f.Maintenance:
		return "maintenance"
	}
	return fmt.Sprintf("latency %v, error %.2f, timeout %.2f, lost response %.2f", f.Latency, f.ErrorRate, f.TimeoutRate, f.LostResponseRate)
}

// ScheduleOptions shapes a nemesis schedule.
type ScheduleOptions struct {
	Banks    []string
	Hubs     int // replicas of the hub (default 1)
	Duration time.Duration
	// HubKillEvery and BankKillEvery are the mean time between kills; zero
	// means none.
	HubKillEvery, BankKillEvery time.Duration
	// SlowEvery is the mean time between slow spells: SlowBank answers
	// everything 2.0–2.6 s late (under a bank timeout of 3 s: slow, not
	// failing, so no circuit opens) for 70–90 s, and a hub replica is killed 3 s
	// in. Its transfers in flight wait out their 30 s leases, and recovering
	// them one after another at that pace outlives the leases of the batch,
	// so that another replica takes transfers over. Zero means none.
	SlowEvery time.Duration
	SlowBank  string // default Banks[0]; the TSP's contract bank is in every transfer
}

// Schedule returns the nemesis's events for a run, ordered by time, from seed
// alone. Each bank alternates calm spells (1–4 s) with a fault (2–6 s): added
// latency, transient errors, timeouts before the bank applies anything, lost
// responses after it applied the operation, a mix, an outage or maintenance.
// Kills of the hub and of banks' processes fall between 3 s after the start
// and 3 s before the end, at least 4 s apart.
func Schedule(seed uint64, o ScheduleOptions) []Event {
	rng := rand.New(rand.NewPCG(seed, 0x6e656d65736973))
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	var evs []Event
	// Slow spells first, from their own stream; a bank's other faults pause
	// while it is slow, since each setting replaces the last.
	type spell struct{ from, to time.Duration }
	slow := map[string][]spell{}
	if o.SlowEvery > 0 {
		srng := rand.New(rand.NewPCG(seed, 0x736c6f77))
		sbetween := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(srng.Int64N(int64(hi-lo)+1)) }
		for t := sbetween(20*time.Second, max(o.SlowEvery/2, 20*time.Second)); t < o.Duration-95*time.Second; t += sbetween(o.SlowEvery/2, o.SlowEvery*3/2) {
			bank := cmp.Or(o.SlowBank, o.Banks[0])
			sp := spell{t, t + sbetween(70*time.Second, 90*time.Second)}
			if o.HubKillEvery > 0 {
				evs = append(evs, Event{At: t + 3*time.Second, Kind: EventKillHub, Hub: srng.IntN(max(o.Hubs, 1)),
					Pause: sbetween(200*time.Millisecond, 2*time.Second)})
			}
			slow[bank] = append(slow[bank], sp)
			evs = append(evs, Event{At: sp.from, Kind: EventFaults, Bank: bank, Name: "slow",
				Faults: banksim.Faults{Latency: sbetween(2000*time.Millisecond, 2600*time.Millisecond)}},
				Event{At: sp.to, Kind: EventFaults, Bank: bank, Name: "heal"})
		}
	}
	for _, bank := range o.Banks {
		t := between(time.Second, 3*time.Second)
		for t < o.Duration {
			f, name := faultMode(rng)
			end := t + between(2*time.Second, 6*time.Second)
			if i := slices.IndexFunc(slow[bank], func(sp spell) bool { return t < sp.to+time.Second && end > sp.from-time.Second }); i >= 0 {
				t = slow[bank][i].to + time.Second
				continue
			}
			evs = append(evs, Event{At: t, Kind: EventFaults, Bank: bank, Faults: f, Name: name})
			if end < o.Duration { // past the end, Heal clears everything
				evs = append(evs, Event{At: end, Kind: EventFaults, Bank: bank, Name: "heal"})
			}
			t = end + between(time.Second, 4*time.Second)
		}
	}
	var spellKills []time.Duration
	for _, e := range evs {
		if e.Kind == EventKillHub {
			spellKills = append(spellKills, e.At)
		}
	}
	near := func(t time.Duration, ts []time.Duration) bool {
		return slices.ContainsFunc(ts, func(x time.Duration) bool { return t > x-4*time.Second && t < x+4*time.Second })
	}
	inSpell := func(t time.Duration) bool {
		for _, sps := range slow {
			if slices.ContainsFunc(sps, func(sp spell) bool { return t > sp.from-4*time.Second && t < sp.to }) {
				return true
			}
		}
		return false
	}
	kills := func(every time.Duration, ev func() Event, avoid func(time.Duration) bool) {
		if every <= 0 || o.Duration < 10*time.Second {
			return
		}
		var last time.Duration
		for t := 3*time.Second + between(0, every); t < o.Duration-3*time.Second; t += between(every/2, every*3/2) {
			if last != 0 && t-last < 4*time.Second || avoid(t) {
				continue
			}
			e := ev()
			e.At = t
			evs = append(evs, e)
			last = t
		}
	}
	kills(o.HubKillEvery, func() Event {
		return Event{Kind: EventKillHub, Hub: rng.IntN(max(o.Hubs, 1)), Pause: between(200*time.Millisecond, 2*time.Second)}
	}, func(t time.Duration) bool { return near(t, spellKills) || inSpell(t) })
	// In a slow spell, the replicas must live long enough for leases to
	// run out; and a restarted bank has no faults, so no bank kills either.
	kills(o.BankKillEvery, func() Event {
		return Event{Kind: EventKillBank, Bank: o.Banks[rng.IntN(len(o.Banks))], Pause: between(500*time.Millisecond, 3*time.Second)}
	}, inSpell)
	slices.SortStableFunc(evs, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	return evs
}

// faultMode draws one fault of the schedule.
func faultMode(rng *rand.Rand) (banksim.Faults, string) {
	rate := func(lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }
	ms := func(lo, hi int64) time.Duration { return time.Duration(lo+rng.Int64N(hi-lo+1)) * time.Millisecond }
	switch rng.IntN(8) {
	case 0:
		return banksim.Faults{Latency: ms(100, 1200)}, "latency"
	case 1:
		return banksim.Faults{ErrorRate: rate(0.1, 0.5)}, "errors"
	case 2:
		return banksim.Faults{TimeoutRate: rate(0.05, 0.3)}, "timeouts"
	case 3, 4:
		return banksim.Faults{LostResponseRate: rate(0.1, 0.5)}, "lost responses"
	case 5:
		return banksim.Faults{Latency: ms(0, 500), ErrorRate: rate(0, 0.2), TimeoutRate: rate(0, 0.1),
			LostResponseRate: rate(0, 0.25)}, "mixed"
	case 6:
		return banksim.Faults{Down: true}, "down"
	}
	return banksim.Faults{Maintenance: true}, "maintenance"
}

// Target is what the nemesis acts on.
type Target interface {
	SetFaults(ctx context.Context, bank string, f banksim.Faults) error
	// KillHub kills a replica of the hub with SIGKILL, waits pause and
	// starts it again with the same flags and database, returning once it
	// listens.
	KillHub(ctx context.Context, replica int, pause time.Duration) error
	// KillBank does the same to one bank's process; the bank comes back
	// without faults.
	KillBank(ctx context.Context, bank string, pause time.Duration) error
}

// Nemesis plays a schedule against a target.
type Nemesis struct {
	Target Target
	Events []Event
	Logf   func(format string, args ...any)

	mu     sync.Mutex // guards the fields below
	counts map[string]int
	errs   []string
}

// Run plays the events until they run out or ctx ends, and waits for kills in
// progress to finish (a killed process is always restarted).
func (n *Nemesis) Run(ctx context.Context, start time.Time) {
	var kills sync.WaitGroup
	defer kills.Wait()
	for _, e := range n.Events {
		if !sleep(ctx, time.Until(start.Add(e.At))) {
			return
		}
		switch e.Kind {
		case EventFaults:
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			n.record(e, n.Target.SetFaults(cctx, e.Bank, e.Faults))
			cancel()
		case EventKillHub, EventKillBank:
			kills.Add(1)
			go func() {
				defer kills.Done()
				// A kill always finishes with a restart, even when the run ends.
				kctx := context.WithoutCancel(ctx)
				if e.Kind == EventKillHub {
					n.record(e, n.Target.KillHub(kctx, e.Hub, e.Pause))
				} else {
					n.record(e, n.Target.KillBank(kctx, e.Bank, e.Pause))
				}
			}()
		}
	}
}

func (n *Nemesis) record(e Event, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.counts == nil {
		n.counts = map[string]int{}
	}
	key := e.Kind
	if e.Kind == EventFaults {
		key = e.Name
	}
	if err != nil {
		// A bank whose process is down cannot take faults; that is expected
		// while a kill-bank is in progress.
		n.counts[key+" (not applied)"]++
		n.errs = append(n.errs, e.String()+": "+err.Error())
		return
	}
	n.counts[key]++
	if n.Logf != nil {
		n.Logf("nemesis %s", e)
	}
}

// Counts returns how many events of each kind were applied, and the errors
// of those that were not.
func (n *Nemesis) Counts() (map[string]int, []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := make(map[string]int, len(n.counts))
	for k, v := range n.counts {
		c[k] = v
	}
	return c, append([]string(nil), n.errs...)
}

// Heal clears every bank's faults, retrying until each bank takes it or ctx
// ends.
func Heal(ctx context.Context, t Target, banks []string) error {
	for _, b := range banks {
		for {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := t.SetFaults(cctx, b, banksim.Faults{})
			cancel()
			if err == nil {
				break
			}
			if !sleep(ctx, 200*time.Millisecond) {
				return fmt.Errorf("heal bank %s: %w", b, err)
			}
		}
	}
	return nil
}
