package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

// newTokenFixture creates a TSP with one client and one registered user, and
// returns them.
func newTokenFixture(t *testing.T, db *sqlstore.DB, code string) (*obx.TSP, *obx.Client, *obx.User) {
	t.Helper()
	ctx := context.Background()
	tsp := newTSP(t, db, code)
	c := &obx.Client{ID: "client-" + code, TSPID: tsp.ID, Name: "App " + code, SecretHash: []byte("$2a$04$x"),
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"login", "inquiry"},
		Env: obx.EnvSandbox, CreatedAt: t0}
	if err := db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	u, _, err := db.Register(ctx, registration(tsp, strings.Repeat("C", 86)+"==", true, false, "110123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return tsp, c, u
}

func tokenRecord(kind, sig, requestID string, c *obx.Client, seq string) *obx.TokenRecord {
	return &obx.TokenRecord{
		Kind: kind, Signature: sig, RequestID: requestID, ClientID: c.ID, TSPID: c.TSPID, UserSeqNo: seq,
		Scopes: []string{"login", "inquiry"}, Data: []byte(`{"id":"` + requestID + `"}`), Active: true,
		CreatedAt: t0, ExpiresAt: t0.Add(90 * 24 * time.Hour),
	}
}

func TestTokens(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		_, c, u := newTokenFixture(t, db, "T991000001")

		access := tokenRecord(obx.TokenAccess, "sig-a", "req-1", c, u.SeqNo)
		refresh := tokenRecord(obx.TokenRefresh, "sig-r", "req-1", c, u.SeqNo)
		code := tokenRecord(obx.TokenCode, "sig-c", "req-1", c, u.SeqNo)
		pkce := tokenRecord(obx.TokenPKCE, "sig-c", "req-1", c, u.SeqNo) // same signature, other kind
		oob := tokenRecord(obx.TokenAccess, "sig-o", "req-2", c, "")
		oob.Scopes = []string{"oob"}
		for _, r := range []*obx.TokenRecord{access, refresh, code, pkce, oob} {
			if err := db.CreateToken(ctx, r); err != nil {
				t.Fatalf("CreateToken(%s %s): %v", r.Kind, r.Signature, err)
			}
		}
		if err := db.CreateToken(ctx, tokenRecord(obx.TokenAccess, "sig-a", "req-9", c, "")); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate CreateToken = %v, want conflict", err)
		}

		for _, want := range []*obx.TokenRecord{access, pkce, oob} {
			got, err := db.Token(ctx, want.Kind, want.Signature)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Token(%s, %s) (-want +got):\n%s", want.Kind, want.Signature, diff)
			}
		}
		if _, err := db.Token(ctx, obx.TokenRefresh, "sig-a"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("Token(refresh, access signature) = %v, want not_found", err)
		}

		t.Run("Deactivate", func(t *testing.T) {
			if err := db.DeactivateToken(ctx, obx.TokenCode, "sig-c"); err != nil {
				t.Fatal(err)
			}
			if err := db.DeactivateToken(ctx, obx.TokenCode, "sig-c"); obx.ErrorCode(err) != obx.ECONFLICT {
				t.Errorf("second DeactivateToken = %v, want conflict", err)
			}
			if err := db.DeactivateToken(ctx, obx.TokenCode, "nope"); obx.ErrorCode(err) != obx.ENOTFOUND {
				t.Errorf("DeactivateToken(unknown) = %v, want not_found", err)
			}
			if got, err := db.Token(ctx, obx.TokenCode, "sig-c"); err != nil || got.Active {
				t.Errorf("Token(code) after deactivation = %+v, %v; want inactive", got, err)
			}
			if got, err := db.Token(ctx, obx.TokenPKCE, "sig-c"); err != nil || !got.Active {
				t.Errorf("Token(pkce) after code deactivation = %+v, %v; want still active", got, err)
			}
		})

		t.Run("RevokeByGrant", func(t *testing.T) {
			if err := db.RevokeTokens(ctx, "req-1", obx.TokenRefresh); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.Token(ctx, obx.TokenRefresh, "sig-r"); got.Active {
				t.Error("refresh token active after RevokeTokens(refresh)")
			}
			if got, _ := db.Token(ctx, obx.TokenAccess, "sig-a"); !got.Active {
				t.Error("access token revoked by RevokeTokens(refresh)")
			}
			if err := db.RevokeTokens(ctx, "req-1", ""); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.Token(ctx, obx.TokenAccess, "sig-a"); got.Active {
				t.Error("access token active after RevokeTokens(all kinds)")
			}
			if got, _ := db.Token(ctx, obx.TokenAccess, "sig-o"); !got.Active {
				t.Error("another grant's token was revoked")
			}
			if err := db.RevokeTokens(ctx, "no-such-grant", obx.TokenAccess); err != nil {
				t.Errorf("RevokeTokens(unknown grant) = %v, want nil", err)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			if err := db.DeleteToken(ctx, obx.TokenPKCE, "sig-c"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Token(ctx, obx.TokenPKCE, "sig-c"); obx.ErrorCode(err) != obx.ENOTFOUND {
				t.Errorf("Token after DeleteToken = %v, want not_found", err)
			}
			if err := db.DeleteToken(ctx, obx.TokenPKCE, "sig-c"); err != nil {
				t.Errorf("DeleteToken(missing) = %v, want nil", err)
			}
		})

		t.Run("DeleteExpired", func(t *testing.T) {
			short := tokenRecord(obx.TokenCode, "sig-short", "req-3", c, u.SeqNo)
			short.ExpiresAt = t0.Add(5 * time.Minute)
			if err := db.CreateToken(ctx, short); err != nil {
				t.Fatal(err)
			}
			n, err := db.DeleteExpiredTokens(ctx, t0.Add(time.Hour))
			if err != nil || n != 1 {
				t.Errorf("DeleteExpiredTokens = %d, %v; want 1", n, err)
			}
			if _, err := db.Token(ctx, obx.TokenAccess, "sig-a"); err != nil {
				t.Errorf("unexpired token deleted: %v", err)
			}
		})
	})
}

func TestTokenTransactions(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		_, c, u := newTokenFixture(t, db, "T991000001")

		txCtx, err := db.BeginTokenTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.BeginTokenTx(txCtx); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("nested BeginTokenTx = %v, want invalid", err)
		}
		if err := db.CreateToken(txCtx, tokenRecord(obx.TokenAccess, "sig-rolled-back", "req-1", c, u.SeqNo)); err != nil {
			t.Fatal(err)
		}
		if err := db.RollbackTokenTx(txCtx); err != nil {
			t.Fatal(err)
		}
		if err := db.RollbackTokenTx(txCtx); err != nil {
			t.Errorf("second RollbackTokenTx = %v, want nil", err)
		}
		if _, err := db.Token(ctx, obx.TokenAccess, "sig-rolled-back"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("token after rollback: %v, want not_found", err)
		}

		txCtx, err = db.BeginTokenTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateToken(txCtx, tokenRecord(obx.TokenAccess, "sig-committed", "req-1", c, u.SeqNo)); err != nil {
			t.Fatal(err)
		}
		if err := db.DeactivateToken(txCtx, obx.TokenAccess, "sig-committed"); err != nil {
			t.Fatal(err)
		}
		if err := db.CommitTokenTx(txCtx); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Token(ctx, obx.TokenAccess, "sig-committed"); err != nil || got.Active {
			t.Errorf("token after commit = %+v, %v; want stored and inactive", got, err)
		}
		if err := db.CommitTokenTx(ctx); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("CommitTokenTx without a transaction = %v, want invalid", err)
		}
	})
}

// TestSetLinkStateRevokesTokens checks the contract of AccountStore.SetLinkState
// that concerns tokens: unlinking or closing revokes, in the same transaction,
// every token the TSP's clients hold for that user, and nothing else.
func TestSetLinkStateRevokesTokens(t *testing.T) {
	for _, state := range []string{obx.LinkUnlinked, obx.LinkClosed} {
		t.Run(state, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
				ctx := context.Background()
				db := dbtest.Open(t, e)
				tspA, cA, u := newTokenFixture(t, db, "T991000001")
				_, cB, _ := newTokenFixture(t, db, "M202600002") // same user (same CI), another TSP

				mine := []*obx.TokenRecord{
					tokenRecord(obx.TokenAccess, "a-access", "a-1", cA, u.SeqNo),
					tokenRecord(obx.TokenRefresh, "a-refresh", "a-1", cA, u.SeqNo),
					tokenRecord(obx.TokenCode, "a-code", "a-2", cA, u.SeqNo),
				}
				others := []*obx.TokenRecord{
					tokenRecord(obx.TokenAccess, "a-oob", "a-3", cA, ""),
					tokenRecord(obx.TokenAccess, "b-access", "b-1", cB, u.SeqNo),
				}
				for _, r := range append(append([]*obx.TokenRecord{}, mine...), others...) {
					if err := db.CreateToken(ctx, r); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.SetLinkState(ctx, tspA.ID, u.SeqNo, state, t0.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				for _, r := range mine {
					if got, _ := db.Token(ctx, r.Kind, r.Signature); got.Active {
						t.Errorf("%s %s still active after SetLinkState(%s)", r.Kind, r.Signature, state)
					}
				}
				for _, r := range others {
					if got, _ := db.Token(ctx, r.Kind, r.Signature); !got.Active {
						t.Errorf("%s %s revoked by SetLinkState(%s) of another TSP or an institution token", r.Kind, r.Signature, state)
					}
				}
			})
		})
	}
}

func TestConsentFlows(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		_, c, _ := newTokenFixture(t, db, "T991000001")

		f := &obx.ConsentFlow{
			ID: "flow-1", ClientID: c.ID, Request: "client_id=" + c.ID + "&scope=login+inquiry",
			Step: "bank", CSRFHash: []byte{1, 2, 3}, BindingHash: []byte{4, 5, 6},
			CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute),
		}
		if err := db.CreateConsentFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
		if f.Version != 1 {
			t.Errorf("Version after create = %d, want 1", f.Version)
		}
		if err := db.CreateConsentFlow(ctx, &obx.ConsentFlow{ID: "flow-1", ClientID: c.ID, CreatedAt: t0, ExpiresAt: t0}); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("duplicate CreateConsentFlow = %v, want conflict", err)
		}
		got, err := db.ConsentFlow(ctx, "flow-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("ConsentFlow (-want +got):\n%s", diff)
		}

		stale := *got
		got.Step, got.BankCode, got.UserCI, got.Attempts = "accounts", "088", "CI", 2
		got.AccountNums = []string{"110123456789", "110987654321"}
		if err := db.UpdateConsentFlow(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 {
			t.Errorf("Version after update = %d, want 2", got.Version)
		}
		again, err := db.ConsentFlow(ctx, "flow-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("ConsentFlow after update (-want +got):\n%s", diff)
		}
		if err := db.UpdateConsentFlow(ctx, &stale); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("stale UpdateConsentFlow = %v, want conflict", err)
		}
		if err := db.DeleteConsentFlow(ctx, "flow-1", 1); obx.ErrorCode(err) != obx.ECONFLICT {
			t.Errorf("stale DeleteConsentFlow = %v, want conflict", err)
		}
		if err := db.DeleteConsentFlow(ctx, "flow-1", 2); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteConsentFlow(ctx, "flow-1", 2); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("second DeleteConsentFlow = %v, want not_found", err)
		}
		if _, err := db.ConsentFlow(ctx, "flow-1"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("ConsentFlow after delete = %v, want not_found", err)
		}
		if err := db.UpdateConsentFlow(ctx, got); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("UpdateConsentFlow after delete = %v, want not_found", err)
		}

		for i, exp := range []time.Duration{time.Minute, time.Hour} {
			fl := &obx.ConsentFlow{ID: "exp-" + string(rune('a'+i)), ClientID: c.ID, Step: "bank",
				CreatedAt: t0, ExpiresAt: t0.Add(exp)}
			if err := db.CreateConsentFlow(ctx, fl); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.DeleteExpiredConsentFlows(ctx, t0.Add(30*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredConsentFlows = %d, %v; want 1", n, err)
		}
		if _, err := db.ConsentFlow(ctx, "exp-b"); err != nil {
			t.Errorf("unexpired flow deleted: %v", err)
		}
	})
}

// TestTokenWithClient: introspection's one read returns the token exactly as
// Token does, with the client and TSP as Client and TSP return them, and the
// user's link state as Link returns it.
func TestTokenWithClient(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		tsp, c, u := newTokenFixture(t, db, "T991000009")
		rec := tokenRecord(obx.TokenAccess, "sig-w", "req-w", c, u.SeqNo)
		if err := db.CreateToken(ctx, rec); err != nil {
			t.Fatal(err)
		}
		gotRec, gotClient, gotTSP, err := db.TokenWithClient(ctx, obx.TokenAccess, "sig-w")
		if err != nil {
			t.Fatal(err)
		}
		wantRec, _ := db.Token(ctx, obx.TokenAccess, "sig-w")
		wantRec.LinkState = obx.LinkActive
		wantClient, _ := db.Client(ctx, c.ID)
		wantTSP, _ := db.TSP(ctx, tsp.ID)
		if diff := cmp.Diff(wantRec, gotRec); diff != "" {
			t.Errorf("token (-Token +TokenWithClient):\n%s", diff)
		}
		if diff := cmp.Diff(wantClient, gotClient); diff != "" {
			t.Errorf("client (-Client +TokenWithClient):\n%s", diff)
		}
		if diff := cmp.Diff(wantTSP, gotTSP); diff != "" {
			t.Errorf("TSP (-TSP +TokenWithClient):\n%s", diff)
		}
		if err := db.SetLinkState(ctx, tsp.ID, u.SeqNo, obx.LinkUnlinked, time.Now()); err != nil {
			t.Fatal(err)
		}
		if r, _, _, err := db.TokenWithClient(ctx, obx.TokenAccess, "sig-w"); err != nil || r.LinkState != obx.LinkUnlinked {
			t.Errorf("after unlink: link state %q, %v; want %q", r.LinkState, err, obx.LinkUnlinked)
		}
		if _, _, _, err := db.TokenWithClient(ctx, obx.TokenAccess, "sig-none"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("missing token: %v, want ENOTFOUND", err)
		}
		if _, _, _, err := db.TokenWithClient(ctx, obx.TokenRefresh, "sig-w"); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("token of another kind: %v, want ENOTFOUND", err)
		}
	})
}
