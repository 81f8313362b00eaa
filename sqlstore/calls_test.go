package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

func TestCallLog(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		calls := sqlstore.NewCalls(db, nil)
		now := time.Now().UTC().Truncate(time.Microsecond)
		// More than one batch, and one old call to purge.
		for i := range 450 {
			calls.RecordCall(obx.APICall{TSPID: 7, ClientID: "c", Env: obx.EnvSandbox, At: now.Add(time.Duration(i) * time.Millisecond),
				API: "GET /v2.0/bank/status", Status: 200, RspCode: "A0000", Latency: 1500 * time.Microsecond})
		}
		calls.RecordCall(obx.APICall{TSPID: 7, At: now.Add(-8 * 24 * time.Hour), API: "old"})
		calls.RecordCall(obx.APICall{TSPID: 8, At: now, API: "other TSP"})
		calls.Close() // writes what is queued
		got, err := calls.RecentCalls(ctx, 7, 10)
		if err != nil || len(got) != 10 {
			t.Fatalf("RecentCalls: %d, %v", len(got), err)
		}
		if c := got[0]; !c.At.Equal(now.Add(449*time.Millisecond)) || c.Latency != 1500*time.Microsecond || c.RspCode != "A0000" {
			t.Errorf("newest call %+v", c)
		}
		if err := calls.PurgeCalls(ctx, now); err != nil {
			t.Fatal(err)
		}
		all, _ := calls.RecentCalls(ctx, 7, 500)
		if len(all) != 450 {
			t.Errorf("after purge: %d calls, want 450", len(all))
		}
		if calls.Dropped() != 0 {
			t.Errorf("dropped %d", calls.Dropped())
		}
	})
}
