package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
)

func TestBankRegistry(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		db.Now = func() time.Time { return t0 }
		b := &obx.BankConfig{Code: "045", Name: "새마을금고", URL: "https://bank.example", Env: obx.EnvLive}
		if err := db.RegisterBank(ctx, b, &obx.AuditEntry{Actor: "a", Action: "bank.register"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RegisterBank(ctx, &obx.BankConfig{Code: "045", Name: "x"}, &obx.AuditEntry{Actor: "a", Action: "bank.register"}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate: %v", err)
		}
		got, err := db.RegisteredBanks(ctx)
		if err != nil || len(got) != 1 || !cmp.Equal(got[0], b) {
			t.Errorf("RegisteredBanks: %v %s", err, cmp.Diff([]*obx.BankConfig{b}, got))
		}
		ws, _ := obx.ParseMaintenance("23:30-00:30,04:00-04:10")
		first := &obx.AuditEntry{Actor: "a", Action: "bank.maintenance"}
		if err := db.SetMaintenance(ctx, "097", ws, first); err != nil {
			t.Fatal(err)
		}
		if err := db.SetMaintenance(ctx, "097", ws[:1], &obx.AuditEntry{Actor: "a", Action: "bank.maintenance"}); err != nil {
			t.Fatal(err)
		}
		m, err := db.Maintenance(ctx)
		if err != nil || !cmp.Equal(m, map[string][]obx.MaintenanceWindow{"097": ws[:1]}) {
			t.Errorf("Maintenance: %v %v", m, err)
		}
		if es, _ := db.Audit(ctx, obx.AuditQuery{Action: "bank.maintenance"}); len(es) != 2 || es[0].Before != "23:30-00:30,04:00-04:10" || es[0].After != "23:30-00:30" {
			t.Errorf("audit %+v", es)
		}
	})
}
