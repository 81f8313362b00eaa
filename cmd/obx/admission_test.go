package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/sqlstore"
	"github.com/obxhub/obx/web"
)

// TestBankRegistry: a bank registered in the console and a maintenance
// window set there reach a running hub at its next registry sync.
func TestBankRegistry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h, err := openHub(ctx, hubConfig{DSN: "sqlite://" + filepath.Join(dir, "hub.db"), Banks: []bankSpec{{Code: "097", Name: "오픈은행"}},
		SimDir: dir, Seed: 1, BankTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	admin := obx.Actor{Staff: &obx.StaffUser{Email: "a@center", Role: obx.RoleAdmin}}
	if err := h.admission.RegisterBank(ctx, admin, &obx.BankConfig{Code: "045", Name: "새마을금고"}); err != nil {
		t.Fatal(err)
	}
	// A window around now, in KST.
	now := time.Now().In(time.FixedZone("KST", 9*3600))
	window := now.Add(-time.Hour).Format("15:04") + "-" + now.Add(time.Hour).Format("15:04")
	if err := h.admission.SetBankMaintenance(ctx, admin, "097", window); err != nil {
		t.Fatal(err)
	}
	if err := h.syncBanks(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := h.banks.Bank("045")
	if err != nil {
		t.Fatalf("registered bank not connected: %v", err)
	}
	if st, err := b.Status(ctx); err != nil || !st.Up {
		t.Errorf("registered bank status %+v %v", st, err)
	}
	b, _ = h.banks.Bank("097")
	if _, err := b.Account(ctx, "1"); !strings.Contains(obx.ErrorMessage(err), "maintenance") {
		t.Errorf("call in a maintenance window: %v", err)
	}
	if st, _ := b.Status(ctx); !st.Maintenance {
		t.Errorf("status in maintenance: %+v", st)
	}
}

// TestAdminCreateUser makes the first console user from the command line.
func TestAdminCreateUser(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "hub.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "Ops@Center.example", "--name", "Ops", "--role", "reviewer"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(out.String()[strings.LastIndex(out.String(), ":")+1:])
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.StaffByEmail(ctx, "ops@center.example")
	if err != nil || u.Role != obx.RoleReviewer || !web.CheckPassword(u.PasswordHash, password) {
		t.Fatalf("created user %+v %v (password %q)", u, err, password)
	}
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "ops@center.example", "--name", "Ops"}, io.Discard, io.Discard); obx.ErrorCode(err) != obx.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
	if err := run(ctx, []string{"admin", "create-user", "--db", dsn, "--email", "x@center.example", "--name", "X", "--role", "boss"}, io.Discard, io.Discard); err == nil {
		t.Error("unknown role accepted")
	}
	if es, _ := db.Audit(ctx, obx.AuditQuery{Action: "staff.create"}); len(es) != 1 {
		t.Errorf("staff.create audited %d times", len(es))
	}
}
