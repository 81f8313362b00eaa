package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankguard"
	"github.com/obxhub/obx/banksim"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
)

const redirectURI = "https://tsp.example/cb"

// testHub is a whole hub on a fresh database with two simulated banks, served
// over real HTTP.
type testHub struct {
	db    *sqlstore.DB
	banks map[string]*banksim.Bank
	dir   *bankguard.Directory
	srv   *httptest.Server
	a, b  *hubtest.TSP // A: an ordinary TSP; B: a self-authenticating one (sa)
	tspA  *obx.TSP
	tspB  *obx.TSP

	transfers *obx.Transfers
}

type hubOptions struct {
	bankTimeout time.Duration
	log         io.Writer // the hub's JSON log; discarded when nil
}

func newHub(t testing.TB, e dbtest.Engine, opts hubOptions) *testHub {
	t.Helper()
	ctx := context.Background()
	h := &testHub{db: dbtest.Open(t, e), banks: map[string]*banksim.Bank{}}
	if opts.bankTimeout == 0 {
		opts.bankTimeout = 5 * time.Second
	}
	guard := bankguard.Config{Timeout: opts.bankTimeout, FailureThreshold: 3, OpenFor: time.Hour}
	h.dir = bankguard.New(guard)
	for _, code := range []string{"097", "088"} {
		b, err := banksim.Open(ctx, banksim.Config{Code: code, Seed: 1, DSN: filepath.Join(t.TempDir(), "bank-"+code+".db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		h.banks[code] = b
		h.dir.Add(guard, b)
	}
	o, err := oauth.New(oauth.Config{
		Participants: h.db, Accounts: h.db, Tokens: h.db, Flows: h.db, Banks: h.dir,
		Secret: []byte("0123456789abcdef0123456789abcdef"), Sandbox: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if opts.log != nil {
		logger = slog.New(slog.NewJSONHandler(opts.log, nil))
	}
	h.transfers = &obx.Transfers{Store: h.db, Contracts: h.db, Accounts: h.db, Banks: h.dir, Now: time.Now, Owner: "test-replica"}
	s := &obxhttp.Server{
		Transfers: h.transfers,
		Logger:    logger,
		Service:   &obx.Service{Accounts: h.db, Banks: h.dir, Now: time.Now},
		Tokens:    o,
		Mounts:    []obxhttp.Mounter{o, &obxhttp.Sandbox{}},
		Ready:     func(ctx context.Context) error { return h.db.SQL().PingContext(ctx) },
	}
	h.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h.srv.Close)
	h.tspA, h.a = h.newTSP(t, o, "T990000001", false)
	h.tspB, h.b = h.newTSP(t, o, "T990000002", true)
	for i, tsp := range []*obx.TSP{h.tspA, h.tspB} {
		acct := banksim.DemoTSPAccounts("097")[i]
		err := h.db.SetContract(ctx, &obx.Contract{TSPID: tsp.ID, MainBank: "097",
			DailyWithdrawLimit: 50_000_000, UserDailyLimit: 3_000_000, PerTransferLimit: 1_000_000,
			DailyDepositLimit: 50_000_000, PassPhraseHash: obx.HashPassPhrase("NONE")})
		if err != nil {
			t.Fatal(err)
		}
		err = h.db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: tsp.ID, BankCode: "097",
			AccountNum: acct.Number, HolderName: acct.HolderName, Kind: obx.ContractBoth})
		if err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// contractAccount returns a TSP's demo contract account number at 097.
func contractAccount(i int) string { return banksim.DemoTSPAccounts("097")[i].Number }

func (h *testHub) newTSP(t testing.TB, o *oauth.Server, code string, selfAuth bool) (*obx.TSP, *hubtest.TSP) {
	t.Helper()
	ctx := context.Background()
	tsp := &obx.TSP{Name: "TSP " + code, ClientUseCode: code, Status: obx.TSPActive, SelfAuth: selfAuth}
	if err := h.db.CreateTSP(ctx, tsp); err != nil {
		t.Fatal(err)
	}
	id, secret := oauth.NewClientCredentials()
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"login", "inquiry", "transfer", "oob"}
	if selfAuth {
		scopes = append(scopes, "sa")
	}
	c := &obx.Client{ID: id, TSPID: tsp.ID, Name: "app " + code, SecretHash: hash,
		RedirectURIs: []string{redirectURI, h.srv.URL + "/sandbox/callback"}, Scopes: scopes, Env: obx.EnvSandbox}
	if err := h.db.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	return tsp, hubtest.NewTSP(h.srv.URL, id, secret, code, redirectURI)
}

// customer returns a demo customer who holds accounts at both test banks.
func customer(t testing.TB) banksim.DemoCustomer {
	t.Helper()
	for _, c := range banksim.DemoCustomers(1) {
		has := map[string]bool{}
		for _, b := range c.Banks {
			has[b] = true
		}
		if has["097"] && has["088"] {
			return c
		}
	}
	t.Fatal("no demo customer banks at both 097 and 088")
	return banksim.DemoCustomer{}
}

// userToken consents as c at bank for scope and returns the access token and
// the user_seq_no.
func userToken(t testing.TB, tsp *hubtest.TSP, c banksim.DemoCustomer, bank, scope string) (token, seq string) {
	t.Helper()
	q := tsp.Consent(t, bank, c.Login, c.Password, scope, nil)
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("consent at %s: %v", bank, q)
	}
	tok := tsp.Exchange(t, q.Get("code"))
	seq, _ = tok.Extra("user_seq_no").(string)
	if len(seq) != 10 {
		t.Fatalf("token has user_seq_no %q", seq)
	}
	return tok.AccessToken, seq
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}
