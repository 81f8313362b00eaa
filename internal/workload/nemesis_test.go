package workload

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScheduleReplays(t *testing.T) {
	o := ScheduleOptions{Banks: []string{"097", "020", "088"}, Hubs: 2, Duration: 10 * time.Minute,
		HubKillEvery: 10 * time.Second, BankKillEvery: 25 * time.Second, SlowEvery: 2 * time.Minute}
	a, b := Schedule(7, o), Schedule(7, o)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("the same seed gave two schedules (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, Schedule(8, o)) {
		t.Error("seeds 7 and 8 gave the same schedule")
	}
	if !slices.IsSortedFunc(a, func(x, y Event) int { return int(x.At - y.At) }) {
		t.Error("events are not in time order")
	}
	kinds := map[string]int{}
	slowUntil := map[string]time.Duration{}
	lastKill := time.Duration(-time.Hour)
	for _, e := range a {
		kinds[e.Name+e.Kind]++
		if e.At < 0 || e.At >= o.Duration {
			t.Errorf("event outside the run: %s", e)
		}
		switch e.Kind {
		case EventFaults:
			if e.Name == "slow" {
				slowUntil[e.Bank] = time.Hour // until its heal
				continue
			}
			if slowUntil[e.Bank] == time.Hour {
				if e.Name != "heal" {
					t.Errorf("fault during a slow spell: %s", e)
				}
				slowUntil[e.Bank] = 0
			}
		case EventKillHub:
			if e.At-lastKill < 4*time.Second {
				t.Errorf("hub kills less than 4 s apart at %v", e.At)
			}
			lastKill = e.At
		}
	}
	for _, k := range []string{"slow" + EventFaults, "heal" + EventFaults, EventKillHub, EventKillBank, "lost responses" + EventFaults} {
		if kinds[k] == 0 {
			t.Errorf("ten minutes without %q: %v", k, kinds)
		}
	}
}
