package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

func newApplicant(t *testing.T, db *sqlstore.DB, code string) *obx.TSP {
	t.Helper()
	tsp := &obx.TSP{Name: "Fin " + code, ClientUseCode: code, Status: obx.TSPSandbox}
	u := &obx.PortalUser{Email: code + "@fin.example", Name: "Kim", PasswordHash: "$argon2id$x"}
	if err := db.CreateApplicant(context.Background(), tsp, u, &obx.AuditEntry{Actor: "portal:" + u.Email, Action: "tsp.sign_up"}); err != nil {
		t.Fatal(err)
	}
	return tsp
}

func TestAdmissionFileRoundTrip(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		db.Now = func() time.Time { return t0 }
		tsp := newApplicant(t, db, "T100000001")
		if err := db.CreateApplicant(ctx, &obx.TSP{Name: "x", ClientUseCode: "T100000002", Status: obx.TSPSandbox},
			&obx.PortalUser{Email: "T100000001@fin.example", PasswordHash: "h"}, &obx.AuditEntry{Actor: "a", Action: "b"}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate email: %v, want conflict", err)
		}
		if _, err := db.TSPByUseCode(ctx, "T100000002"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("a failed sign-up left its TSP behind: %v", err)
		}

		f, err := db.UpdateAdmission(ctx, tsp.ID, func(f *obx.AdmissionFile) (*obx.AuditEntry, error) {
			a := f.App
			a.State, a.CompanyName, a.BusinessNum, a.Category = obx.AdmLive, "Fin Co", "1234567890", obx.EligibleFintech
			a.Activities, a.Services, a.APIs = []string{"gambling"}, []string{"payment"}, []string{"/v2.0/user/me"}
			a.ServicePlan, a.SubBusiness, a.SelfCert, a.CreditRating = "plan", true, true, "BBB"
			a.PaidInCapital, a.AnnualRevenue, a.BusinessMonths, a.ServiceMonths = 3_000_000_000, 4_000_000_000, 30, 40
			a.Members, a.AnnualTransactions, a.Licences = 123_456, 2_000_000, []string{obx.LicencePrepaidDebit}
			a.AML, a.ComplaintHandling, a.AccountVerification = true, true, true
			a.Decision, a.DecisionReasons, a.SubmittedAt = obx.AdmApproved, "fine", t0
			f.TSP.Status, f.TSP.SelfAuth = obx.TSPActive, true
			f.Checks = []*obx.FunctionalCheck{{API: "/v2.0/user/me"}}
			f.Security = []*obx.SecurityItem{{Part: obx.SecurityVulnerability, Title: "plain-text PIN", FoundBy: "staff:r", FoundAt: t0}}
			f.Contract = &obx.AdmissionContract{MainBank: "097", MainBankFee: 10, DailyWithdrawLimit: 1_000_000,
				UserDailyLimit: 100_000, PerTransferLimit: 50_000, DailyDepositLimit: 2_000_000, Large: true,
				Guarantee: obx.GuaranteeCenter, GuaranteePercent: 250, InsuredAmount: 2_500_000, RequestedAt: t0, SignedAt: t0,
				Accounts:       []obx.ContractAccount{{TSPID: tsp.ID, BankCode: "097", AccountNum: "1002", HolderName: "Fin", Kind: obx.ContractBoth}},
				BankGuarantees: []obx.BankGuarantee{{BankCode: "088", Limit: 5, AgreedAt: t0}}}
			f.Notes = []*obx.Note{{Author: "staff:r", Kind: "decision", Rule: "gambling", Text: "flagged"}}
			f.IssueClient = &obx.Client{ID: "live-1", TSPID: tsp.ID, Name: "live", SecretHash: []byte("h"), Env: obx.EnvLive}
			f.ActivateContract = true
			return &obx.AuditEntry{Actor: "staff:r", Action: "tsp.go_live", Before: "contract", After: "live"}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.AdmissionFile(ctx, tsp.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.IssueClient, f.ActivateContract = nil, false
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("file (-written +read):\n%s", diff)
		}
		// Going live made the money-movement contract and the live client.
		c, err := db.Contract(ctx, tsp.ID)
		if err != nil || c.MainBank != "097" || c.DailyWithdrawLimit != 1_000_000 {
			t.Errorf("contract %+v, %v", c, err)
		}
		if _, err := db.ContractAccount(ctx, tsp.ID, "1002"); err != nil {
			t.Errorf("contract account: %v", err)
		}
		if cl, err := db.Client(ctx, "live-1"); err != nil || cl.Env != obx.EnvLive {
			t.Errorf("live client %+v, %v", cl, err)
		}
		if q, err := db.Queue(ctx, obx.AdmLive, 10); err != nil || len(q) != 1 || q[0].TSPID != tsp.ID {
			t.Errorf("live queue %+v, %v", q, err)
		}

		// A step that fails writes nothing, not even its audit entry.
		before, _ := db.Audit(ctx, obx.AuditQuery{})
		_, err = db.UpdateAdmission(ctx, tsp.ID, func(f *obx.AdmissionFile) (*obx.AuditEntry, error) {
			f.App.State, f.TSP.Status, f.RevokeClients = obx.AdmTerminated, obx.TSPTerminated, true
			return nil, obx.Errorf(obx.ECONFLICT, "no")
		})
		if obx.ErrorCode(err) != obx.ECONFLICT {
			t.Fatalf("failing step: %v", err)
		}
		after, _ := db.Audit(ctx, obx.AuditQuery{})
		if tsp2, _ := db.TSP(ctx, tsp.ID); tsp2.Status != obx.TSPActive || len(after) != len(before) {
			t.Errorf("a failed step changed things: status %s, audit %d → %d", tsp2.Status, len(before), len(after))
		}

		// Termination revokes every client.
		if _, err := db.UpdateAdmission(ctx, tsp.ID, func(f *obx.AdmissionFile) (*obx.AuditEntry, error) {
			f.App.State, f.TSP.Status, f.RevokeClients = obx.AdmTerminated, obx.TSPTerminated, true
			return &obx.AuditEntry{Actor: "staff:r", Action: "tsp.terminate"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if cl, _ := db.Client(ctx, "live-1"); cl.RevokedAt.IsZero() {
			t.Error("terminated TSP's client not revoked")
		}
		if _, err := db.AdmissionFile(ctx, 42); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("unknown file: %v", err)
		}
	})
}

func TestAdmissionSandboxChecklist(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newApplicant(t, db, "T100000003")
		db.UpdateAdmission(ctx, tsp.ID, func(f *obx.AdmissionFile) (*obx.AuditEntry, error) {
			f.Checks = []*obx.FunctionalCheck{{API: "/v2.0/user/me"}, {API: "/v2.0/bank/status"}}
			return &obx.AuditEntry{Actor: "system", Action: "application.checklist"}, nil
		})
		for _, at := range []time.Time{t0, t0.Add(time.Hour)} { // the first success counts
			if err := db.RecordSandboxSuccess(ctx, tsp.ID, "/v2.0/user/me", at); err != nil {
				t.Fatal(err)
			}
		}
		db.RecordSandboxSuccess(ctx, tsp.ID, "/v2.0/account/list", t0) // before the application names it
		f, _ := db.AdmissionFile(ctx, tsp.ID)
		if len(f.Checks) != 3 || !f.Checks[0].PassedAt.Equal(t0) || !f.Checks[1].PassedAt.IsZero() || !f.Checks[2].PassedAt.Equal(t0) {
			t.Errorf("checks %+v", f.Checks)
		}
	})
}

func TestAuditChain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp := newApplicant(t, db, "T100000004")
		// Concurrent writers still make one unbroken chain.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.UpdateAdmission(ctx, tsp.ID, func(f *obx.AdmissionFile) (*obx.AuditEntry, error) {
					f.Notes = append(f.Notes, &obx.Note{Author: "staff:r", Kind: "note", Text: fmt.Sprint(i)})
					return &obx.AuditEntry{Actor: fmt.Sprintf("staff:%d", i), Action: "application.note", After: fmt.Sprint(i)}, nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n, err := db.VerifyAudit(ctx)
		if err != nil || n != 9 {
			t.Fatalf("VerifyAudit = %d, %v; want 9 entries", n, err)
		}
		got, err := db.Audit(ctx, obx.AuditQuery{Action: "application.", Limit: 3})
		if err != nil || len(got) != 3 || got[0].Seq != 9 {
			t.Errorf("filtered audit: %d entries, %v", len(got), err)
		}
		if got, _ := db.Audit(ctx, obx.AuditQuery{Actor: "staff:3"}); len(got) != 1 || got[0].After != "3" {
			t.Errorf("audit by actor: %+v", got)
		}
		if got, _ := db.Audit(ctx, obx.AuditQuery{Subject: fmt.Sprintf("tsp:%d", tsp.ID)}); len(got) != 9 {
			t.Errorf("audit by subject: %d entries", len(got))
		}
		// Editing or removing an entry breaks the chain.
		if _, err := db.SQL().Exec(`UPDATE audit_log SET after_state = 'forged' WHERE seq = 4`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.VerifyAudit(ctx); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("edited trail verified: %v", err)
		}
		db.SQL().Exec(`UPDATE audit_log SET after_state = (SELECT after_state FROM audit_log WHERE seq = 4) WHERE seq = 4`)
		if _, err := db.SQL().Exec(`DELETE FROM audit_log WHERE seq = 9`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.VerifyAudit(ctx); err == nil {
			t.Error("truncated trail verified")
		}
	})
}

func TestUsersSessionsDocuments(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		db.Now = func() time.Time { return t0 }
		u := &obx.StaffUser{Email: "admin@center", Name: "Admin", Role: obx.RoleAdmin, PasswordHash: "h"}
		if err := db.CreateStaff(ctx, u, &obx.AuditEntry{Actor: "cli", Action: "staff.create"}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateStaff(ctx, &obx.StaffUser{Email: "admin@center"}, &obx.AuditEntry{Actor: "cli", Action: "staff.create"}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate staff: %v", err)
		}
		got, err := db.StaffByEmail(ctx, "admin@center")
		if diff := cmp.Diff(u, got); err != nil || diff != "" {
			t.Errorf("StaffByEmail: %v %s", err, diff)
		}
		if _, err := db.Staff(ctx, 1); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("unknown staff: %v", err)
		}

		s := &obx.WebSession{TokenHash: "th", Kind: obx.SessionStaff, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Session(ctx, "th", t0.Add(time.Minute)); err != nil || got.UserID != u.ID {
			t.Errorf("Session: %+v %v", got, err)
		}
		if _, err := db.Session(ctx, "th", t0.Add(2*time.Hour)); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("expired session: %v", err)
		}
		db.DeleteSession(ctx, "th")
		if _, err := db.Session(ctx, "th", t0); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("deleted session: %v", err)
		}

		for i := 1; i <= 3; i++ {
			if n, err := db.SignInFailure(ctx, "k", t0.Add(time.Duration(i)*time.Minute), 15*time.Minute); err != nil || n != i {
				t.Errorf("failure %d counted %d, %v", i, n, err)
			}
		}
		if n, _ := db.SignInFailures(ctx, "k", t0.Add(30*time.Minute), 15*time.Minute); n != 0 {
			t.Errorf("failures outside the window: %d", n)
		}
		db.CreateSession(ctx, &obx.WebSession{TokenHash: "old", Kind: obx.SessionStaff, UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)})
		if err := db.PurgeWebState(ctx, t0.Add(17*time.Minute), 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.SignInFailures(ctx, "k", t0.Add(3*time.Minute), 15*time.Minute); n != 1 {
			t.Errorf("after purge: %d failures, want only the one still inside the window", n)
		}
		var left int
		db.SQL().QueryRow(`SELECT COUNT(*) FROM web_sessions WHERE token_hash = 'old'`).Scan(&left)
		if left != 0 {
			t.Error("expired session not purged")
		}

		tsp := newApplicant(t, db, "T100000005")
		other := newApplicant(t, db, "T100000006")
		d := &obx.Document{TSPID: tsp.ID, Name: "plan.pdf", ContentType: "application/pdf", Size: 4, SHA256: "x", Data: []byte{0, 1, 2, 255}}
		if err := db.AddDocument(ctx, d, &obx.AuditEntry{Actor: "p", Action: "document.upload"}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Document(ctx, tsp.ID, d.ID); err != nil || !cmp.Equal(got.Data, d.Data) {
			t.Errorf("Document: %+v %v", got, err)
		}
		if _, err := db.Document(ctx, other.ID, d.ID); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("another TSP's document: %v", err)
		}
		if ds, _ := db.Documents(ctx, tsp.ID); len(ds) != 1 || ds[0].Data != nil {
			t.Errorf("Documents: %+v", ds)
		}

		c := &obx.Client{ID: "c1", TSPID: tsp.ID, Name: "app", SecretHash: []byte("new"), Scopes: []string{"login"}, Env: obx.EnvSandbox, CreatedAt: t0}
		if err := db.CreateClientAudited(ctx, c, &obx.AuditEntry{Actor: "p", Action: "client.create"}); err != nil {
			t.Fatal(err)
		}
		c.PreviousSecretHash, c.PreviousSecretUntil, c.SecretHash = []byte("new"), t0.Add(time.Hour), []byte("newer")
		if err := db.SaveClientAudited(ctx, c, &obx.AuditEntry{Actor: "p", Action: "client.rotate"}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Client(ctx, "c1"); err != nil || !cmp.Equal(got, c) {
			t.Errorf("rotated client: %v %s", err, cmp.Diff(c, got))
		}
		if err := db.SaveClientAudited(ctx, &obx.Client{ID: "nope"}, &obx.AuditEntry{Actor: "p", Action: "x"}); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("unknown client: %v", err)
		}
		sb := &obx.SubBusiness{TSPID: tsp.ID, Num: "S1", Name: "Shop", BusinessNum: "1234567890", State: obx.SubPending}
		if err := db.SaveSubBusinessAudited(ctx, sb, &obx.AuditEntry{Actor: "p", Action: "sub_business.request"}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SubBusinesses(ctx, tsp.ID); err != nil || len(got) != 1 || !cmp.Equal(got[0], sb) {
			t.Errorf("SubBusinesses %+v %v", got, err)
		}
		if n, err := db.VerifyAudit(ctx); err != nil || n != 7 {
			t.Errorf("VerifyAudit = %d, %v", n, err)
		}
	})
}
