package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/oauth"
)

// demoState is DIR/demo.json: everything a person or a script needs to act as
// a TSP against the demo hub. It also keeps the demo clients' secrets, which
// the database stores only hashed, so that a restart prints the same ones.
type demoState struct {
	BaseURL      string         `json:"base_url"`
	AuthorizeURL string         `json:"authorize_url"`
	TSPs         []demoTSP      `json:"tsps"`
	Customers    []demoCustomer `json:"customers"`
	Banks        []demoBank     `json:"banks"`
	Console      demoStaff      `json:"console"`
}

// demoStaff is the demo's first console user, an admin.
type demoStaff struct {
	URL      string `json:"url"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type demoTSP struct {
	Name            string   `json:"name"`
	MainBank        string   `json:"main_bank"`
	ContractAccount string   `json:"cntr_account_num"`
	WdPassPhrase    string   `json:"wd_pass_phrase"`
	ClientID        string   `json:"client_id"`
	ClientSecret    string   `json:"client_secret"`
	ClientUseCode   string   `json:"client_use_code"`
	Scopes          []string `json:"scopes"`
	SelfAuth        bool     `json:"self_auth"`
	RedirectURIs    []string `json:"redirect_uris"`
	State           string   `json:"state"` // admission state: live, or suspended/terminated from the console
}

type demoCustomer struct {
	Name   string      `json:"name"`
	Logins []demoLogin `json:"logins"`
}

type demoLogin struct {
	BankCodeStd string `json:"bank_code_std"`
	Login       string `json:"login"`
	Password    string `json:"password"`
}

type demoBank struct {
	BankCodeStd string `json:"bank_code_std"`
	BankName    string `json:"bank_name"`
}

// demoTSPs are the demo's fintech apps: an ordinary one and a
// self-authenticating one (scope sa).
var demoTSPs = []struct {
	name, code string
	selfAuth   bool
}{
	{"오비엑스페이 (데모)", "T990000001", false},
	{"셀프인증핀테크 (데모)", "T990000002", true},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "Runs the whole hub in one process on an embedded SQLite database under --data,\nwith simulated banks and demo TSPs and customers created on first start. It\nprints the base URL, the demo credentials and an authorize URL, and writes them\nto DATA/demo.json. Sandbox tools (headless consent, fault injection) are on.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	data := fs.String("data", "./obx-data", "directory for the database, the banks' ledgers and demo.json")
	seed := fs.Int64("seed", 1, "seed of the deterministic demo data")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logFormat)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()

	var banks []bankSpec
	for _, b := range banksim.DemoBanks {
		banks = append(banks, bankSpec{Code: b.Code, Name: b.Name})
	}
	h, err := openHub(ctx, hubConfig{
		DSN: "sqlite://" + filepath.Join(*data, "obx.db"), Sandbox: true, Banks: banks,
		SimDir: *data, Seed: *seed, BankTimeout: 5 * time.Second, Logger: logger, BaseURL: base,
		RecordCalls: true,
	})
	if err != nil {
		return err
	}
	defer h.Close()

	state, err := seedDemo(ctx, h, *data, base, *seed)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	printDemo(stdout, state)
	srv := newHTTPServer(h.handler)
	logger.Info("obx demo listening", "base_url", base)
	return serveUntilDone(ctx, srv, ln, logger)
}

// seedDemo creates the demo TSPs and clients if missing, points their redirect
// URIs at this run's address, and writes demo.json. It is idempotent.
func seedDemo(ctx context.Context, h *hub, dir, base string, seed int64) (*demoState, error) {
	path := filepath.Join(dir, "demo.json")
	var old demoState
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &old)
	}
	st := &demoState{BaseURL: base}
	for i, d := range demoTSPs {
		scopes := []string{obx.ScopeLogin, obx.ScopeInquiry, obx.ScopeTransfer, obx.ScopeOOB, obx.ScopeProducts}
		if d.selfAuth {
			scopes = append(scopes, obx.ScopeSA)
		}
		uris := []string{base + "/sandbox/callback", "http://localhost:3000/callback"}
		acct := banksim.DemoTSPAccounts(banksim.TestbedBankCode)[i]
		t := demoTSP{Name: d.name, ClientUseCode: d.code, Scopes: scopes, SelfAuth: d.selfAuth, RedirectURIs: uris,
			ContractAccount: acct.Number, MainBank: acct.BankCode, WdPassPhrase: demoPassPhrase}
		newClient := func(tspID int64) (*obx.Client, error) {
			id, secret := oauth.NewClientCredentials()
			hash, err := oauth.HashSecret(secret)
			if err != nil {
				return nil, err
			}
			t.ClientID, t.ClientSecret = id, secret
			return &obx.Client{ID: id, TSPID: tspID, Name: d.name + " app", SecretHash: hash,
				RedirectURIs: uris, Scopes: scopes, Env: obx.EnvSandbox}, nil
		}

		// A demo TSP is admitted through the admission service, so that it
		// has a complete file and the console can suspend it like any other.
		tsp, err := h.db.TSPByUseCode(ctx, d.code)
		switch obx.ErrorCode(err) {
		case obx.ENOTFOUND:
			c, err := newClient(0)
			if err != nil {
				return nil, err
			}
			f, err := h.admission.Seed(ctx, demoSeed, demoAdmission(&obx.TSP{Name: d.name, ClientUseCode: d.code}, d.selfAuth, acct, c))
			if err != nil {
				return nil, err
			}
			tsp = f.TSP
		case "":
			// A database from before demo TSPs had files gets one now.
			if _, err := h.db.AdmissionFile(ctx, tsp.ID); obx.ErrorCode(err) == obx.ENOTFOUND {
				if _, err := h.admission.Seed(ctx, demoSeed, demoAdmission(tsp, d.selfAuth, acct, nil)); err != nil {
					return nil, err
				}
			} else if err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
		f, err := h.db.AdmissionFile(ctx, tsp.ID)
		if err != nil {
			return nil, err
		}
		t.State = f.App.State

		// Reuse the client from demo.json when it is still in the database;
		// a terminated TSP keeps its dead one, since it may have no other.
		if t.ClientID == "" && i < len(old.TSPs) && old.TSPs[i].ClientUseCode == d.code {
			c, err := h.db.Client(ctx, old.TSPs[i].ClientID)
			switch {
			case err == nil && c.TSPID == tsp.ID && (c.RevokedAt.IsZero() || f.App.State == obx.AdmTerminated):
				t.ClientID, t.ClientSecret = c.ID, old.TSPs[i].ClientSecret
				c.RedirectURIs, c.Scopes = uris, scopes
				if err := h.db.UpdateClient(ctx, c); err != nil {
					return nil, err
				}
			case err != nil && obx.ErrorCode(err) != obx.ENOTFOUND:
				return nil, err
			}
		}
		if t.ClientID == "" {
			c, err := newClient(tsp.ID)
			if err != nil {
				return nil, err
			}
			e := &obx.AuditEntry{At: time.Now().UTC(), Actor: demoSeed.String(), Action: "client.create",
				Subject: "client:" + c.ID, After: c.Env, Note: c.Name}
			if err := h.db.CreateClientAudited(ctx, c, e); err != nil {
				return nil, err
			}
		}
		st.TSPs = append(st.TSPs, t)
	}
	for _, c := range banksim.DemoCustomers(seed) {
		dc := demoCustomer{Name: c.Name}
		for _, l := range c.Logins() {
			dc.Logins = append(dc.Logins, demoLogin{BankCodeStd: l.BankCode, Login: l.Login, Password: l.Password})
		}
		st.Customers = append(st.Customers, dc)
	}
	for _, b := range banksim.DemoBanks {
		st.Banks = append(st.Banks, demoBank{BankCodeStd: b.Code, BankName: b.Name})
	}
	st.Console = demoStaff{URL: base + "/console/", Email: demoAdminEmail, Password: old.Console.Password}
	if _, err := h.db.StaffByEmail(ctx, demoAdminEmail); obx.ErrorCode(err) == obx.ENOTFOUND || st.Console.Password == "" {
		st.Console.Password, err = createStaff(ctx, h.db, demoAdminEmail, "Demo admin", obx.RoleAdmin, "", "obx demo")
		if obx.ErrorCode(err) == obx.ECONFLICT { // made by an earlier run whose demo.json is gone
			st.Console.Password, err = "(set by an earlier run; obx admin create-user makes another)", nil
		}
		if err != nil {
			return nil, err
		}
	}
	q := url.Values{
		"response_type": {"code"}, "client_id": {st.TSPs[0].ClientID},
		"redirect_uri": {st.TSPs[0].RedirectURIs[0]}, "scope": {"login inquiry transfer"},
		"state": {"12345678901234567890123456789012"}, "auth_type": {"0"},
	}
	st.AuthorizeURL = base + "/oauth/2.0/authorize?" + q.Encode()

	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return st, os.Rename(tmp, path)
}

// demoAdminEmail is the demo's console admin.
const demoAdminEmail = "admin@obx.demo"

// demoPassPhrase is the demo TSPs' deposit pass phrase, as KFTC's testbed uses.
const demoPassPhrase = "NONE"

// demoSeed is who admits the demo TSPs, as the audit trail names it.
var demoSeed = obx.Actor{System: "demo seed"}

// demoAdmission is a demo TSP's file: a plausible application that hits no
// eligibility rule, a contract at its main bank with acct as collection and
// payout account and sandbox limits, and client c (if not nil) as its
// credentials. The self-authenticating TSP is large and scores high enough
// to certify its own customers.
func demoAdmission(t *obx.TSP, selfAuth bool, acct obx.BankAccount, c *obx.Client) *obx.SeededTSP {
	app := &obx.Application{
		CompanyName: t.Name, BusinessNum: "1208800001", Category: obx.EligibleFintech,
		Services: []string{"inquiry", "payment", "remittance"}, APIs: obx.AdmissionAPIs,
		ServicePlan: "A demo wallet: customers link their bank accounts, see balances and history, " +
			"pay merchants by withdrawal transfer and send money by deposit transfer.",
		CreditRating: "BBB", PaidInCapital: 500_000_000, AnnualRevenue: 1_200_000_000, BusinessMonths: 30,
		ServiceMonths: 30, Members: 25_000, AnnualTransactions: 300_000, AML: true, ComplaintHandling: true,
		AccountVerification: true,
	}
	if selfAuth {
		app.BusinessNum, app.SelfCert = "1208800002", true
		app.CreditRating, app.PaidInCapital, app.AnnualRevenue = "AA", 12_000_000_000, 45_000_000_000
		app.BusinessMonths, app.ServiceMonths, app.Members, app.AnnualTransactions = 72, 72, 1_200_000, 12_000_000
		app.Licences = []string{obx.LicencePrepaidDebit}
	}
	return &obx.SeededTSP{TSP: t, App: app, Client: c, Contract: obx.AdmissionContract{
		MainBank: acct.BankCode, DailyWithdrawLimit: 100_000_000, UserDailyLimit: 10_000_000,
		PerTransferLimit: 5_000_000, DailyDepositLimit: 100_000_000,
		Accounts: []obx.ContractAccount{{BankCode: acct.BankCode, AccountNum: acct.Number, HolderName: acct.HolderName,
			Kind: obx.ContractBoth}},
	}}
}

func printDemo(w io.Writer, st *demoState) {
	fmt.Fprintf(w, "obx demo hub: %s\n\n", st.BaseURL)
	for _, t := range st.TSPs {
		if t.State != obx.AdmLive {
			fmt.Fprintf(w, "TSP %s is %s in the operator console; its calls are refused.\n", t.Name, t.State)
		}
		fmt.Fprintf(w, "TSP %s (scopes: %v)\n  client_id        %s\n  client_secret    %s\n  client_use_code  %s\n  redirect_uri     %s\n  cntr_account_num %s (bank %s, wd_pass_phrase %s)\n\n",
			t.Name, t.Scopes, t.ClientID, t.ClientSecret, t.ClientUseCode, t.RedirectURIs[0], t.ContractAccount, t.MainBank, t.WdPassPhrase)
	}
	fmt.Fprintln(w, "Sandbox customers (bank code: login / password):")
	for _, c := range st.Customers {
		fmt.Fprintf(w, "  %s:", c.Name)
		for _, l := range c.Logins {
			fmt.Fprintf(w, " %s %s/%s", l.BankCodeStd, l.Login, l.Password)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nOpen this in a browser to consent as a customer:\n  %s\n\n", st.AuthorizeURL)
	fmt.Fprintf(w, "Developer portal (sign up as a TSP): %s/portal/signup\n", st.BaseURL)
	fmt.Fprintf(w, "Operator console: %s\n  email %s  password %s\n\n", st.Console.URL, st.Console.Email, st.Console.Password)
	fmt.Fprintln(w, "The same, for scripts: demo.json in the data directory.")
}
