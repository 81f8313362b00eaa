package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
)

const redirectURI = "https://tsp.example/callback"

// seedTSP creates a TSP with one sandbox client in the database at dsn.
func seedTSP(t *testing.T, dsn, code string) (clientID, secret string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tsp := &obx.TSP{Name: "E2E " + code, ClientUseCode: code, Status: obx.TSPActive}
	if err := db.CreateTSP(ctx, tsp); err != nil {
		t.Fatal(err)
	}
	clientID, secret = oauth.NewClientCredentials()
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	err = db.CreateClient(ctx, &obx.Client{ID: clientID, TSPID: tsp.ID, Name: "e2e app", SecretHash: hash,
		RedirectURIs: []string{redirectURI}, Scopes: []string{"login", "inquiry", "transfer", "oob"}, Env: obx.EnvSandbox})
	if err != nil {
		t.Fatal(err)
	}
	return clientID, secret
}

var listening = regexp.MustCompile(`(?:listening on|obx demo hub:) (http://\S+)`)

// startInProcess runs the obx command in this process and returns its base URL;
// the command is stopped (gracefully) and must return nil at test end.
func startInProcess(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw, io.Discard); pw.Close() }()
	base := waitListening(t, pr)
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("obx %s returned %v", args[0], err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("obx %s did not shut down", args[0])
		}
	})
	return base
}

func waitListening(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				return
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatal("obx exited before listening")
		}
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("obx did not start listening")
	}
	return ""
}

// customerAt returns a demo customer with accounts at both given banks.
func customerAt(t *testing.T, a, b string) banksim.DemoCustomer {
	for _, c := range banksim.DemoCustomers(1) {
		if contains(c.Banks, a) && contains(c.Banks, b) {
			return c
		}
	}
	t.Fatalf("no demo customer at %s and %s", a, b)
	return banksim.DemoCustomer{}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// flow is the TSP's whole journey through a running hub: consent at two
// banks, code exchange and refresh with golang.org/x/oauth2, account list,
// balances and full transaction history at both banks, and the misuse codes.
func flow(t *testing.T, tsp *hubtest.TSP, banks [2]string) {
	c := customerAt(t, banks[0], banks[1])
	ctx := tsp.Context(context.Background())
	conf := tsp.OAuth2("login", "inquiry", "transfer")

	var tok *oauth2.Token
	var seq string
	for i, bank := range banks {
		q := tsp.Consent(t, bank, c.Login, c.Password, "login inquiry transfer", nil)
		if q.Get("state") != "0123456789abcdef0123456789abcdef" || q.Get("client_info") != "test-info" {
			t.Fatalf("callback did not echo state and client_info: %v", q)
		}
		var err error
		tok, err = conf.Exchange(ctx, q.Get("code"))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		seq, _ = tok.Extra("user_seq_no").(string)
		if i == 0 {
			// A replayed code is refused and revokes what it issued.
			if _, err := conf.Exchange(ctx, q.Get("code")); err == nil {
				t.Error("a code was accepted twice")
			}
			if r := tsp.Get(t, tok.AccessToken, "/v2.0/user/me", url.Values{"user_seq_no": {seq}}); hubtest.Code(r) != "O0002" {
				t.Errorf("token of a replayed code: %s, want O0002", hubtest.Code(r))
			}
		}
	}
	if tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(80*24*time.Hour)) {
		t.Errorf("token: has refresh %v, expiry %v; want a refresh token and ~90 days", tok.RefreshToken != "", tok.Expiry)
	}
	// Refresh: golang.org/x/oauth2 refreshes an expired token by itself.
	stale := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	fresh, err := conf.TokenSource(ctx, stale).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Error("refresh did not rotate the tokens")
	}
	if r := tsp.Get(t, fresh.AccessToken, "/v2.0/user/me", url.Values{"user_seq_no": {seq}}); hubtest.Code(r) != "A0000" {
		t.Fatalf("refreshed token: %v", r)
	}
	// Replaying the rotated refresh token is refused and, as a stolen token
	// would be, revokes the whole family: the fresh token dies too.
	if _, err := conf.TokenSource(ctx, stale).Token(); err == nil {
		t.Error("a rotated refresh token still works")
	}
	if r := tsp.Get(t, fresh.AccessToken, "/v2.0/user/me", url.Values{"user_seq_no": {seq}}); hubtest.Code(r) != "O0002" {
		t.Errorf("token family after refresh replay: %s, want O0002", hubtest.Code(r))
	}
	q := tsp.Consent(t, banks[0], c.Login, c.Password, "login inquiry transfer", nil)
	tok, err = conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	access := tok.AccessToken

	me := tsp.Get(t, access, "/v2.0/user/me", url.Values{"user_seq_no": {seq}})
	if hubtest.Code(me) != "A0000" || hubtest.Str(me, "user_name") != c.Name {
		t.Fatalf("user/me: %v", me)
	}
	byBank := map[string][]string{}
	for _, a := range hubtest.List(me, "res_list") {
		byBank[hubtest.Str(a, "bank_code_std")] = append(byBank[hubtest.Str(a, "bank_code_std")], hubtest.Str(a, "fintech_use_num"))
	}
	for _, bank := range banks {
		paged := 0
		for _, fin := range byBank[bank] {
			bal := tsp.Get(t, access, "/v2.0/account/balance/fin_num", url.Values{
				"bank_tran_id": {tsp.BankTranID()}, "fintech_use_num": {fin}, "tran_dtime": {hubtest.TranDtime()}})
			if hubtest.Code(bal) != "A0000" || hubtest.Str(bal, "bank_code_tran") != bank {
				t.Fatalf("balance at %s: %v", bank, bal)
			}
			paged += pageAll(t, tsp, access, fin)
		}
		if paged == 0 {
			t.Errorf("no history at bank %s", bank)
		}
	}

	// Misuse.
	fin := byBank[banks[0]][0]
	oob := tsp.InstitutionToken(t, "oob")
	for _, tc := range []struct {
		name, token, fin, want string
	}{
		{"no token", "", fin, "O0001"},
		{"bad token", "x", fin, "O0002"},
		{"revoked token family", fresh.AccessToken, fin, "O0002"},
		{"wrong scope", oob, fin, "O0011"},
		{"unknown fintech number", access, "199000000100000000000001", "A0304"},
	} {
		r := tsp.Get(t, tc.token, "/v2.0/account/balance/fin_num", url.Values{
			"bank_tran_id": {tsp.BankTranID()}, "fintech_use_num": {tc.fin}, "tran_dtime": {hubtest.TranDtime()}})
		if hubtest.Code(r) != tc.want {
			t.Errorf("%s: rsp_code %s, want %s", tc.name, hubtest.Code(r), tc.want)
		}
	}
}

// pageAll walks an account's history of the last seven months and returns
// how many entries it saw, checking that no entry repeats.
func pageAll(t *testing.T, tsp *hubtest.TSP, token, fin string) int {
	seen := map[string]bool{}
	cursor := ""
	for {
		r := tsp.Get(t, token, "/v2.0/account/transaction_list/fin_num", url.Values{
			"bank_tran_id": {tsp.BankTranID()}, "fintech_use_num": {fin}, "inquiry_type": {"A"}, "inquiry_base": {"D"},
			"from_date": {time.Now().AddDate(0, -7, 0).Format("20060102")}, "to_date": {hubtest.Today()},
			"sort_order": {"D"}, "tran_dtime": {hubtest.TranDtime()}, "befor_inquiry_trace_info": {cursor}})
		if hubtest.Code(r) != "A0000" {
			t.Fatalf("transaction_list: %v", r)
		}
		for _, it := range hubtest.List(r, "res_list") {
			b, _ := json.Marshal(it)
			if seen[string(b)] {
				t.Fatalf("entry repeated across pages: %s", b)
			}
			seen[string(b)] = true
		}
		if hubtest.Str(r, "next_page_yn") != "Y" {
			return len(seen)
		}
		cursor = hubtest.Str(r, "befor_inquiry_trace_info")
	}
}

func TestServeEndToEnd(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		dsn := e.NewDSN(t)
		id, secret := seedTSP(t, dsn, "T991000001")
		base := startInProcess(t, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--banks", "097=sim,088=sim",
			"--sim-dir", t.TempDir(), "--sandbox", "--log-format", "json")
		flow(t, hubtest.NewTSP(base, id, secret, "T991000001", redirectURI), [2]string{"097", "088"})
	})
}

// TestServeWithBankProcesses runs the built binary: two banks as separate
// `obx banksim` processes and the hub as an `obx serve` process reaching them
// over the bank protocol.
func TestServeWithBankProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "obx")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	start := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if testing.Verbose() == false {
			cmd.Stderr = nil
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("obx %s exited with %v", args[0], err)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Errorf("obx %s did not stop on SIGTERM", args[0])
			}
		})
		base := waitListening(t, out)
		go io.Copy(io.Discard, out)
		return base
	}
	bank1 := start("banksim", "--addr", "127.0.0.1:0", "--bank-code", "097", "--data", data, "--token", "s3cret")
	bank2 := start("banksim", "--addr", "127.0.0.1:0", "--bank-code", "081", "--data", data, "--token", "s3cret")
	dsn := "sqlite://" + filepath.Join(data, "hub.db")
	id, secret := seedTSP(t, dsn, "T991000002")
	base := start("serve", "--db", dsn, "--addr", "127.0.0.1:0", "--sandbox",
		"--banks", fmt.Sprintf("097=%s,081=%s", bank1, bank2), "--bank-token", "s3cret")
	flow(t, hubtest.NewTSP(base, id, secret, "T991000002", redirectURI), [2]string{"097", "081"})
}

func TestDemo(t *testing.T) {
	data := t.TempDir()
	base := startInProcess(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	st := readDemo(t, data)
	if st.BaseURL != base || len(st.TSPs) < 1 || len(st.Customers) < 10 || len(st.Banks) < 6 {
		t.Fatalf("demo.json: base %s (want %s), %d TSPs, %d customers, %d banks", st.BaseURL, base, len(st.TSPs), len(st.Customers), len(st.Banks))
	}
	for _, tp := range st.TSPs {
		if tp.ClientID == "" || tp.ClientSecret == "" || len(tp.ClientUseCode) != 10 || len(tp.RedirectURIs) == 0 {
			t.Errorf("demo TSP %+v", tp)
		}
	}
	if !strings.HasPrefix(st.AuthorizeURL, base+"/oauth/2.0/authorize?") {
		t.Errorf("authorize_url %s", st.AuthorizeURL)
	}
	tp := st.TSPs[0]
	tsp := hubtest.NewTSP(base, tp.ClientID, tp.ClientSecret, tp.ClientUseCode, tp.RedirectURIs[0])
	login := st.Customers[0].Logins[0]
	q := tsp.Consent(t, login.BankCodeStd, login.Login, login.Password, "login inquiry", nil)
	if tsp.Exchange(t, q.Get("code")).AccessToken == "" {
		t.Fatal("no token from the demo")
	}
}

func TestDemoRestartKeepsCredentials(t *testing.T) {
	data := t.TempDir()
	run1 := func() demoState {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", data}, pw, io.Discard)
			pw.Close()
		}()
		waitListening(t, pr)
		go io.Copy(io.Discard, pr)
		st := readDemo(t, data)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("demo: %v", err)
		}
		return st
	}
	a, b := run1(), run1()
	if a.TSPs[0].ClientID != b.TSPs[0].ClientID || a.TSPs[0].ClientSecret != b.TSPs[0].ClientSecret {
		t.Errorf("restart changed the demo credentials")
	}
}

func readDemo(t *testing.T, dir string) demoState {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st demoState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMigrateCommand(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	var out strings.Builder
	if err := run(context.Background(), []string{"migrate", "--db", dsn}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied migration 1") {
		t.Errorf("first migrate said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--db", dsn}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Errorf("second migrate said %q", out.String())
	}
}

func TestHelpListsEveryFlagWithItsVariable(t *testing.T) {
	for _, cmd := range []string{"demo", "serve", "migrate", "banksim"} {
		var errOut strings.Builder
		err := run(context.Background(), []string{cmd, "--help"}, io.Discard, &errOut)
		if err == nil {
			t.Errorf("%s --help returned nil, want flag.ErrHelp", cmd)
		}
		help := errOut.String()
		for _, want := range []string{"Usage: obx " + cmd, "$OBX_"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s --help lacks %q:\n%s", cmd, want, help)
			}
		}
	}
}

func TestFlagsReadEnvironment(t *testing.T) {
	t.Setenv("OBX_DB", "sqlite://"+filepath.Join(t.TempDir(), "env.db"))
	var out strings.Builder
	if err := run(context.Background(), []string{"migrate"}, &out, io.Discard); err != nil {
		t.Fatalf("migrate with OBX_DB: %v", err)
	}
	if err := run(context.Background(), []string{"migrate", "--db", ""}, &out, io.Discard); err == nil {
		t.Error("an explicit empty --db did not win over OBX_DB")
	}
}

func TestParseBanks(t *testing.T) {
	got, err := parseBanks("088=http://10.0.0.5:9088/, 097=sim", "tok")
	if err != nil || len(got) != 2 || got[0].URL != "http://10.0.0.5:9088" || got[1].URL != "" || got[0].Token != "tok" {
		t.Errorf("parseBanks = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "88=sim", "088=ftp://x", "088=sim,088=sim", "088"} {
		if _, err := parseBanks(bad, ""); err == nil {
			t.Errorf("parseBanks(%q) accepted", bad)
		}
	}
}

// TestSubBusinessRule: once a TSP must name sub-businesses, a withdrawal
// without one, with an unregistered one or an unapproved one is refused, and
// one with an approved sub-business goes through.
func TestSubBusinessRule(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "hub.db")
	id, secret := seedTSP(t, dsn, "T991000003")
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tsp, _ := db.TSPByUseCode(ctx, "T991000003")
	acct := banksim.DemoTSPAccounts("097")[0]
	if err := db.SetContract(ctx, &obx.Contract{TSPID: tsp.ID, MainBank: "097", DailyWithdrawLimit: 10_000_000,
		PassPhraseHash: obx.HashPassPhrase("NONE")}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: tsp.ID, BankCode: "097", AccountNum: acct.Number,
		HolderName: acct.HolderName, Kind: obx.ContractBoth}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	sub := func(args ...string) {
		t.Helper()
		if err := run(ctx, append([]string{"subbusiness", "--db", dsn, "--tsp", "T991000003"}, args...), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	sub("--num", "M001", "--name", "동네빵집", "--business-num", "1234567890", "--require")
	sub("--num", "M002", "--name", "승인가게", "--business-num", "2345678901", "--approve")

	base := startInProcess(t, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--banks", "097=sim", "--sim-dir", t.TempDir(), "--sandbox")
	tsp2 := hubtest.NewTSP(base, id, secret, "T991000003", redirectURI)
	c := banksim.DemoCustomers(1)[0]
	q := tsp2.Consent(t, "097", c.Login, c.Password, "login inquiry transfer", nil)
	tok := tsp2.Exchange(t, q.Get("code"))
	seq, _ := tok.Extra("user_seq_no").(string)
	fin := hubtest.Str(hubtest.List(tsp2.Get(t, tok.AccessToken, "/v2.0/user/me", url.Values{"user_seq_no": {seq}}), "res_list")[0], "fintech_use_num")
	withdraw := func(subFields map[string]string) string {
		b := map[string]any{"bank_tran_id": tsp2.BankTranID(), "cntr_account_type": "N", "cntr_account_num": acct.Number,
			"dps_print_content": "충전", "fintech_use_num": fin, "tran_amt": "1000", "tran_dtime": hubtest.TranDtime(),
			"req_client_name": c.Name, "req_client_fintech_use_num": fin, "req_client_num": "1", "transfer_purpose": "ST",
			"recv_client_name": "가맹점", "recv_client_bank_code": "097", "recv_client_account_num": acct.Number}
		for k, v := range subFields {
			b[k] = v
		}
		return hubtest.Code(tsp2.Post(t, tok.AccessToken, "/v2.0/transfer/withdraw/fin_num", b))
	}
	for _, tc := range []struct {
		name string
		sub  map[string]string
		want string
	}{
		{"no sub-business", nil, "A0004"},
		{"unregistered", map[string]string{"sub_frnc_name": "모르는곳", "sub_frnc_num": "M999", "sub_frnc_business_num": "9999999999"}, "A0301"},
		{"not approved", map[string]string{"sub_frnc_name": "동네빵집", "sub_frnc_num": "M001", "sub_frnc_business_num": "1234567890"}, "A0301"},
		{"approved (with the sample app's typo)", map[string]string{"sub_frnc_name": "승인가게", "sub_frnc_num": "M002", "sub_frnc_bussiness_num": "2345678901"}, "A0000"},
	} {
		if got := withdraw(tc.sub); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
