package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankhttp"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/internal/workload"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
)

// The workload test's knobs. The defaults are the short form CI runs; a long
// run is e.g. -workload.duration=10m -workload.seed=N.
var (
	workloadDuration = flag.Duration("workload.duration", 25*time.Second, "how long the workload's clients run")
	workloadSeed     = flag.Uint64("workload.seed", 0, "seed of the workload's schedule (0: a random seed, which the test prints)")
	workloadClients  = flag.Int("workload.clients", 16, "concurrent TSP clients")
	workloadEngines  = flag.String("workload.engines", "postgres", "hub databases to run on: postgres, sqlite, or both comma-separated")
	workloadSettle   = flag.Duration("workload.settle", 60*time.Second, "how long every accepted transfer may take to become final once the faults stop")
	workloadKeep     = flag.Bool("workload.keep", false, "keep the run's directory (binary, logs, ledgers) even when the run passes")
	workloadNoKills  = flag.Bool("workload.nokills", false, "never kill the hub or the banks (faults only)")
	workloadReplicas = flag.Int("workload.replicas", 1, "replicas of the hub on the one database; clients spread their requests over them")
)

// Workload parameters that are not flags.
const (
	wlBankToken     = "workload-bank-token"
	wlUseCode       = "T991000777"
	wlRedirectURI   = "https://tsp.example/workload"
	wlContractBank  = "088"           // the TSP's main bank, where its contract account is
	wlDemoSeed      = 1               // the banks' demo data; independent of the workload's seed
	wlExtraAccounts = 2               // demand accounts added per customer and bank
	wlExtraBalance  = 300_000         // their opening balance, KRW
	wlMaxAmount     = 250_000         // amounts are 1,000 … this; also the per-transfer limit
	wlStartLimit    = 2_000_000       // the TSP's daily withdrawal limit at the start; raised as the run goes
	wlLimitTarget   = 0.3             // wanted share of withdrawals refused for the daily limit
	wlClosed        = 1               // accounts per bank closed after their registration
	wlBankTimeout   = 3 * time.Second // the hub's per-call bank timeout; slow spells stay under it
	wlClientTimeout = 4 * time.Second // the clients' HTTP timeout: shorter than a slow transfer, so they retry mid-flight
)

// wlBanks are the banks in play: together they hold the most demo demand
// accounts (25 with the demo seed), which wlExtraAccounts brings past 50.
var wlBanks = []string{"097", "020", "088"}

// TestWorkload is a Jepsen-style bank test. Three banks run as `obx banksim`
// processes and the hub as an `obx serve` process on a fresh database. One
// TSP's clients move money between 60-odd customer accounts and the TSP's
// contract account with withdrawals and deposits, retrying with the same
// bank_tran_id and body whenever the outcome is open, while a nemesis injects
// bank faults (latency, errors, timeouts, lost responses, outages,
// maintenance) and kills the hub and banks with SIGKILL. Then the faults stop,
// every transfer must become final, and workload.Check audits the banks'
// ledgers, the hub's database and every answer the clients got.
//
// The seed fixes the schedule: which transfers, amounts, faults and kills,
// and when. Real time and real processes decide the interleavings, so a
// replay with -workload.seed explores the same schedule, not the same
// execution.
//
//	go test ./cmd/obx -run Workload                      # the short form, as CI runs it
//	go test ./cmd/obx -run Workload -timeout 30m \
//	    -workload.duration=10m -workload.seed=N          # a long run; from 3 minutes on with slow spells
//	    -workload.replicas=2                             # two hub replicas on the one database
//	    -workload.engines=postgres,sqlite                # also (or only) on SQLite
//	    -workload.keep                                   # keep logs and ledgers of a passing run
//
// The processes are built with the race detector when the test is, and a
// race they report fails the test.
func TestWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary with faults for a while")
	}
	engines := strings.Split(*workloadEngines, ",")
	for _, engine := range engines {
		engine = strings.TrimSpace(engine)
		t.Run(engine, func(t *testing.T) {
			seed := *workloadSeed
			if seed == 0 {
				seed = rand.Uint64()
			}
			t.Logf("workload seed %d (replay the schedule with -workload.seed=%d)", seed, seed)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("FAILED with workload seed %d: go test ./cmd/obx -run 'TestWorkload/%s' -workload.seed=%d -workload.duration=%v -workload.replicas=%d",
						seed, engine, seed, *workloadDuration, *workloadReplicas)
				}
			})
			runWorkload(t, engine, seed)
		})
	}
}

// wlRun is one workload run's system under test.
type wlRun struct {
	t       *testing.T
	dir     string
	bin     string
	dsn     string
	db      *sqlstore.DB
	tspID   int64
	hubs    []*workload.Proc // the hub's replicas
	banks   map[string]*workload.Proc
	clients map[string]*bankhttp.Client // the banks over the bank protocol, for faults and audits

	mu sync.Mutex // serializes kills and restarts of one process with the final stops
}

func runWorkload(t *testing.T, engine string, seed uint64) {
	ctx := context.Background()
	setup := time.Now()
	r := &wlRun{t: t, banks: map[string]*workload.Proc{}, clients: map[string]*bankhttp.Client{}}
	var err error
	if r.dir, err = os.MkdirTemp("", "obx-workload-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *workloadKeep {
			t.Logf("run directory kept: %s (logs: *.log; bank ledgers: banks/)", r.dir)
			return
		}
		os.RemoveAll(r.dir)
	})

	switch engine {
	case sqlstore.Postgres:
		r.dsn = dbtest.PostgresDSN(t)
	case sqlstore.SQLite:
		r.dsn = "sqlite://" + filepath.Join(r.dir, "hub.db")
	default:
		t.Fatalf("-workload.engines: unknown engine %q", engine)
	}
	r.build()
	extra := r.prepareBanks(ctx)
	for _, code := range wlBanks {
		p := &workload.Proc{Name: "bank " + code, Bin: r.bin, LogPath: filepath.Join(r.dir, "bank-"+code+".log"),
			Args: []string{"banksim", "--bank-code", code, "--data", filepath.Join(r.dir, "banks"), "--token", wlBankToken,
				"--seed", fmt.Sprint(wlDemoSeed), "--log-format", "json"}}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		r.banks[code] = p
		c, err := bankhttp.NewClient(bankhttp.Config{Code: code, BaseURL: p.URL(), Token: wlBankToken,
			HTTPClient: &http.Client{Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		r.clients[code] = c
	}
	t.Cleanup(func() { r.stopAll() })

	clientID, secret, contract := r.seedHub(ctx)
	var spec []string
	for _, code := range wlBanks {
		spec = append(spec, code+"="+r.banks[code].URL())
	}
	var bases []string
	for i := range max(*workloadReplicas, 1) {
		hub := &workload.Proc{Name: fmt.Sprintf("hub %d", i), Bin: r.bin, LogPath: filepath.Join(r.dir, fmt.Sprintf("hub-%d.log", i)),
			Args: []string{"serve", "--db", r.dsn, "--banks", strings.Join(spec, ","), "--bank-token", wlBankToken,
				"--bank-timeout", wlBankTimeout.String(), "--sandbox", "--log-format", "json", "--sim-dir", filepath.Join(r.dir, "unused")}}
		if err := hub.Start(ctx); err != nil {
			t.Fatal(err)
		}
		r.hubs = append(r.hubs, hub)
		bases = append(bases, hub.URL())
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); r.watchdog(watchCtx) }()
	defer func() { stopWatch(); <-watched }()

	tsp := hubtest.NewTSP(bases[0], clientID, secret, wlUseCode, wlRedirectURI)
	accounts := r.consentAll(ctx, tsp)
	r.closeSome(ctx, accounts, extra, seed)
	t.Logf("%d customer accounts in play at banks %v (%d closed after registration); contract account at %s; set up in %v",
		len(accounts), wlBanks, countClosed(accounts), contract.BankCode, time.Since(setup).Round(time.Millisecond))

	before := r.balances(ctx, accounts, contract)
	hist := &workload.History{}
	limits := &workload.LimitController{
		History: hist, Start: wlStartLimit, Mean: (1000 + wlMaxAmount) / 2, Target: wlLimitTarget, Now: time.Now,
		Set: func(ctx context.Context, limit int64) error { return r.setContract(ctx, limit) },
	}
	if err := limits.Init(ctx); err != nil {
		t.Fatal(err)
	}
	client := &workload.Client{
		Bases: bases, UseCode: wlUseCode, OOBToken: tsp.InstitutionToken(t, "oob"), Contract: contract, Now: time.Now,
		HTTP: &http.Client{Timeout: wlClientTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	runner := &workload.Runner{Client: client, Accounts: accounts, History: hist, Seed: seed, Workers: *workloadClients,
		MaxAmount: wlMaxAmount}
	opts := workload.ScheduleOptions{Banks: wlBanks, Hubs: len(r.hubs), Duration: *workloadDuration,
		HubKillEvery: 8 * time.Second, BankKillEvery: 20 * time.Second}
	if *workloadDuration >= 3*time.Minute {
		opts.SlowEvery, opts.SlowBank = 3*time.Minute, wlContractBank
	}
	if *workloadNoKills {
		opts.HubKillEvery, opts.BankKillEvery = 0, 0
	}
	nemesis := &workload.Nemesis{Target: r, Events: workload.Schedule(seed, opts)}

	// The run: clients, the limit controller and the nemesis, for the duration.
	start := time.Now()
	runCtx, stop := context.WithTimeout(ctx, *workloadDuration)
	defer stop()
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); limits.Run(runCtx) }()
	go func() { defer bg.Done(); nemesis.Run(runCtx, start) }()
	progress := time.AfterFunc(*workloadDuration/2, func() {
		t.Logf("half-way: %d ops, %d withdrawals decided, %d refused for the daily limit",
			len(hist.Ops()), hist.Withdrawals.Load(), hist.LimitRefusals.Load())
	})
	runner.Run(runCtx)
	progress.Stop()
	bg.Wait() // the nemesis waits for a kill in progress to restart its process
	ran := time.Since(start)

	// Heal, and give recovery its time.
	if err := workload.Heal(ctx, r, wlBanks); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	unfinished := r.waitFinal(ctx, *workloadSettle)
	settle := time.Since(healed)

	// Gather what the checker audits. The hub keeps running for the result
	// queries; the banks answer over the protocol, then stop so that their
	// ledgers can be read.
	limit, changes := limits.Limit()
	f := &workload.Final{
		Seed: seed, Ops: hist.Ops(), Accounts: accounts, Contract: contract, Before: before,
		WithdrawLimit: limit, LimitChanges: changes, PerTransferLimit: wlMaxAmount,
	}
	f.Transfers, f.Usage, f.Movements = r.readHub(ctx)
	f.Results = r.results(ctx, client, f.Ops)
	f.Protocol = r.protocol(ctx, f.Transfers)
	f.After = r.balances(ctx, accounts, contract)
	stopWatch()
	<-watched
	stopErrs := r.stopAll()
	f.Ledger = r.ledgers(ctx)
	for _, err := range stopErrs {
		t.Errorf("%v (see %s)", err, r.dir)
	}
	r.scanLogs()
	for _, p := range r.procs() {
		for _, c := range p.Crashes() {
			t.Errorf("%s; see %s", c, p.LogPath)
		}
	}

	r.report(f, nemesis, ran, settle, unfinished, seed)
	// At most ten violations of each check, so that one flood does not hide
	// the others.
	vs := workload.Check(f)
	per := map[string]int{}
	for _, v := range vs {
		if per[v.Check]++; per[v.Check] <= 10 {
			t.Errorf("seed %d: check %s", seed, v)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(per)) {
		t.Errorf("seed %d: check %s: %d violations", seed, c, per[c])
	}
}

// build compiles the obx binary, with the race detector when the test has it.
func (r *wlRun) build() {
	r.bin = filepath.Join(r.dir, "obx")
	args := []string{"build", "-o", r.bin}
	if workload.RaceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		r.t.Fatalf("go build: %v\n%s", err, out)
	}
}

// prepareBanks creates the banks' ledgers before their processes start: the
// demo data, plus wlExtraAccounts demand accounts per customer and bank,
// since the demo alone has too few accounts in play. It returns the numbers
// of the added accounts.
func (r *wlRun) prepareBanks(ctx context.Context) map[string]bool {
	extra := map[string]bool{}
	for _, code := range wlBanks {
		b := r.openLedger(ctx, code)
		as, err := b.AddDemandAccounts(ctx, wlExtraAccounts, wlExtraBalance)
		b.Close()
		if err != nil {
			r.t.Fatal(err)
		}
		for _, a := range as {
			extra[a.Number] = true
		}
	}
	return extra
}

func (r *wlRun) openLedger(ctx context.Context, code string) *banksim.Bank {
	dir := filepath.Join(r.dir, "banks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	b, err := banksim.Open(ctx, banksim.Config{Code: code, Seed: wlDemoSeed, DSN: filepath.Join(dir, "bank-"+code+".db")})
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// seedHub creates the TSP, its sandbox client, its contract and contract
// account, and keeps the database open for the limit controller and audits.
func (r *wlRun) seedHub(ctx context.Context) (clientID, secret string, contract workload.Contract) {
	t := r.t
	db, err := sqlstore.Open(ctx, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tsp := &obx.TSP{Name: "워크로드페이", ClientUseCode: wlUseCode, Status: obx.TSPActive}
	if err := db.CreateTSP(ctx, tsp); err != nil {
		t.Fatal(err)
	}
	r.tspID = tsp.ID
	clientID, secret = oauth.NewClientCredentials()
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	err = db.CreateClient(ctx, &obx.Client{ID: clientID, TSPID: tsp.ID, Name: "workload app", SecretHash: hash,
		RedirectURIs: []string{wlRedirectURI}, Scopes: []string{"login", "inquiry", "transfer", "oob"}, Env: obx.EnvSandbox})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.setContract(ctx, wlStartLimit); err != nil {
		t.Fatal(err)
	}
	acct := banksim.DemoTSPAccounts(wlContractBank)[0]
	err = db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: tsp.ID, BankCode: acct.BankCode,
		AccountNum: acct.Number, HolderName: acct.HolderName, Kind: obx.ContractBoth})
	if err != nil {
		t.Fatal(err)
	}
	return clientID, secret, workload.Contract{BankCode: acct.BankCode, Number: acct.Number, HolderName: acct.HolderName,
		PassPhrase: "NONE"}
}

// setContract writes the TSP's contract with a daily withdrawal limit.
func (r *wlRun) setContract(ctx context.Context, limit int64) error {
	return r.db.SetContract(ctx, &obx.Contract{
		TSPID: r.tspID, MainBank: wlContractBank, DailyWithdrawLimit: limit, PerTransferLimit: wlMaxAmount,
		PassPhraseHash: obx.HashPassPhrase("NONE"),
	})
}

// consentAll has every demo customer consent, at every bank in play where
// they bank, to login, inquiry and transfer with all their accounts, and
// returns their open demand accounts there.
func (r *wlRun) consentAll(ctx context.Context, tsp *hubtest.TSP) []*workload.Account {
	t := r.t
	var out []*workload.Account
	for _, c := range banksim.DemoCustomers(wlDemoSeed) {
		for _, bank := range c.Banks {
			if !slices.Contains(wlBanks, bank) {
				continue
			}
			q := tsp.Consent(t, bank, c.Login, c.Password, "login inquiry transfer", nil)
			tok := tsp.Exchange(t, q.Get("code"))
			seq, _ := tok.Extra("user_seq_no").(string)
			accts, err := r.db.Accounts(ctx, r.tspID, seq, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range accts {
				if a.BankCode == bank && a.Type == obx.AccountDemand {
					out = append(out, &workload.Account{BankCode: a.BankCode, Number: a.Number, FintechUseNum: a.FintechUseNum,
						UserSeqNo: a.UserSeqNo, HolderName: a.HolderName, Token: tok.AccessToken})
				}
			}
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d demand accounts in play, want at least 50", len(out))
	}
	return out
}

// closeSome closes wlClosed added accounts per bank at the bank, after the
// TSP registered them: debits from them fail, and credits to them fail after
// the debit, so the hub must reverse it. A bank's ledger is written while its
// process is stopped.
func (r *wlRun) closeSome(ctx context.Context, accounts []*workload.Account, extra map[string]bool, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x636c6f7365))
	for _, code := range wlBanks {
		var cands []*workload.Account
		for _, a := range accounts {
			if a.BankCode == code && extra[a.Number] {
				cands = append(cands, a)
			}
		}
		if len(cands) == 0 {
			continue
		}
		if err := r.banks[code].Stop(); err != nil {
			r.t.Fatal(err)
		}
		b := r.openLedger(ctx, code)
		for range wlClosed {
			a := cands[rng.IntN(len(cands))]
			if err := b.SetAccountClosed(ctx, a.Number, true); err != nil {
				r.t.Fatal(err)
			}
			a.Closed = true
		}
		b.Close()
		if err := r.banks[code].Start(ctx); err != nil {
			r.t.Fatal(err)
		}
	}
}

func countClosed(as []*workload.Account) int {
	n := 0
	for _, a := range as {
		if a.Closed {
			n++
		}
	}
	return n
}

// balances reads the balance of every account in play and of the contract
// account from the banks, over the bank protocol.
func (r *wlRun) balances(ctx context.Context, accounts []*workload.Account, contract workload.Contract) map[workload.AccountKey]int64 {
	keys := []workload.AccountKey{contract.Key()}
	for _, a := range accounts {
		keys = append(keys, a.Key())
	}
	out := map[workload.AccountKey]int64{}
	for _, k := range keys {
		err := retryBank(ctx, func(ctx context.Context) error {
			b, err := r.clients[k.Bank].Balance(ctx, k.Number)
			if err == nil {
				out[k] = b.Balance
			}
			return err
		})
		if err != nil {
			r.t.Fatalf("balance of %s: %v", k, err)
		}
	}
	return out
}

// retryBank retries a call to a bank for a while: the nemesis has stopped,
// but a bank may have just restarted.
func retryBank(ctx context.Context, fn func(context.Context) error) error {
	var err error
	for range 20 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = fn(cctx)
		cancel()
		if err == nil || obx.ErrorCode(err) == obx.ENOTFOUND {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}

// SetFaults implements workload.Target over the bank protocol's /sim/v1/faults.
func (r *wlRun) SetFaults(ctx context.Context, bank string, f banksim.Faults) error {
	return r.clients[bank].SetFaults(ctx, f)
}

// KillHub implements workload.Target.
func (r *wlRun) KillHub(ctx context.Context, replica int, pause time.Duration) error {
	return r.kill(ctx, r.hubs[replica], pause)
}

// KillBank implements workload.Target.
func (r *wlRun) KillBank(ctx context.Context, bank string, pause time.Duration) error {
	return r.kill(ctx, r.banks[bank], pause)
}

func (r *wlRun) kill(ctx context.Context, p *workload.Proc, pause time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.Kill()
	time.Sleep(pause)
	return p.Start(ctx)
}

// watchdog restarts a process that exits on its own (a crash, which the test
// reports at the end), so that the run goes on and the audit still runs.
func (r *wlRun) watchdog(ctx context.Context) {
	for sleepCtx(ctx, 500*time.Millisecond) {
		r.mu.Lock()
		for _, p := range r.procs() {
			if p.Crashed() {
				r.t.Logf("%s exited on its own; restarting it", p.Name)
				if err := p.Start(ctx); err != nil {
					r.t.Logf("restart %s: %v", p.Name, err)
				}
			}
		}
		r.mu.Unlock()
	}
}

func (r *wlRun) procs() []*workload.Proc {
	ps := append([]*workload.Proc(nil), r.hubs...)
	for _, code := range wlBanks {
		ps = append(ps, r.banks[code])
	}
	return ps
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopAll stops the hub, then the banks, gracefully, and returns the errors
// of processes that did not exit cleanly (with the race detector, a process
// that saw a data race exits non-zero).
func (r *wlRun) stopAll() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, hub := range r.hubs {
		if err := hub.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, code := range wlBanks {
		if p := r.banks[code]; p != nil {
			if err := p.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// waitFinal waits until no transfer is unfinished, or bound passes, and
// returns how many are left.
func (r *wlRun) waitFinal(ctx context.Context, bound time.Duration) int {
	deadline := time.Now().Add(bound)
	for {
		var n int
		err := r.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM transfers WHERE state NOT IN ('completed', 'failed')`).Scan(&n)
		if err != nil {
			r.t.Fatal(err)
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// readHub reads the hub's transfers, limit usage and interbank movements.
func (r *wlRun) readHub(ctx context.Context) ([]workload.Transfer, []workload.LimitUsage, []workload.Movement) {
	t := r.t
	q := r.db.SQL()
	rows, err := q.QueryContext(ctx, `SELECT id, kind, bank_tran_id, tran_day, limit_day, amount, user_seq_no,
		debit_bank, debit_account, credit_bank, credit_account, state, reversed, rsp_code, created_at
		FROM transfers WHERE tsp_id = $1 ORDER BY created_at, id`, r.tspID)
	if err != nil {
		t.Fatal(err)
	}
	var ts []workload.Transfer
	for rows.Next() {
		var x workload.Transfer
		var created any
		if err := rows.Scan(&x.ID, &x.Kind, &x.BankTranID, &x.TranDay, &x.LimitDay, &x.Amount, &x.UserSeqNo,
			&x.DebitBank, &x.DebitAccount, &x.CreditBank, &x.CreditAccount, &x.State, &x.Reversed, &x.RspCode, &created); err != nil {
			t.Fatal(err)
		}
		x.CreatedAt = wlTime(t, created)
		ts = append(ts, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	var us []workload.LimitUsage
	rows, err = q.QueryContext(ctx, `SELECT day, kind, user_seq_no, used FROM limit_usage WHERE tsp_id = $1`, r.tspID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u workload.LimitUsage
		if err := rows.Scan(&u.Day, &u.Kind, &u.UserSeqNo, &u.Used); err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	rows.Close()

	var ms []workload.Movement
	rows, err = q.QueryContext(ctx, `SELECT transfer_id, from_bank, to_bank, amount FROM interbank_movements`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m workload.Movement
		if err := rows.Scan(&m.TransferID, &m.FromBank, &m.ToBank, &m.Amount); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	rows.Close()
	return ts, us, ms
}

// wlTime reads a timestamp column of either engine (SQLite keeps RFC 3339 text).
func wlTime(t *testing.T, v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v
	case string:
		x, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return x
	case []byte:
		return wlTime(t, string(v))
	}
	t.Fatalf("timestamp of type %T", v)
	return time.Time{}
}

// results asks transfer/result about every op, 25 at a time.
func (r *wlRun) results(ctx context.Context, c *workload.Client, ops []*workload.Op) map[string]workload.Attempt {
	out := map[string]workload.Attempt{}
	for _, kind := range []string{"withdraw", "deposit"} {
		var batch []*workload.Op
		flush := func() {
			if len(batch) == 0 {
				return
			}
			for try := 0; ; try++ {
				as := c.Results(ctx, batch)
				if as[0].Outcome != workload.Unknown || try == 10 {
					for i, a := range as {
						out[batch[i].BankTranID] = a
					}
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			batch = batch[:0]
		}
		for _, op := range ops {
			if op.Kind == kind {
				batch = append(batch, op)
				if len(batch) == 25 {
					flush()
				}
			}
		}
		flush()
	}
	return out
}

// protocol asks the banks about every transfer's operation ids over the bank
// protocol, eight at a time.
func (r *wlRun) protocol(ctx context.Context, ts []workload.Transfer) map[string]workload.ProtocolOp {
	type ask struct{ id, bank string }
	var asks []ask
	for _, x := range ts {
		asks = append(asks, ask{x.ID + "-D", x.DebitBank}, ask{x.ID + "-C", x.CreditBank}, ask{x.ID + "-R", x.DebitBank})
	}
	out := make(map[string]workload.ProtocolOp, len(asks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan ask)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				p := workload.ProtocolOp{Bank: a.bank}
				err := retryBank(ctx, func(ctx context.Context) error {
					res, err := r.clients[a.bank].Operation(ctx, a.id)
					if err == nil {
						p.Status, p.RspCode = res.Status, res.RspCode
					}
					return err
				})
				switch {
				case obx.ErrorCode(err) == obx.ENOTFOUND:
					p.Status = "absent"
				case err != nil:
					p.Status = "error: " + err.Error()
				}
				mu.Lock()
				out[a.id] = p
				mu.Unlock()
			}
		}()
	}
	for _, a := range asks {
		work <- a
	}
	close(work)
	wg.Wait()
	return out
}

// ledgers reads every operation from the banks' ledgers; their processes
// must be stopped.
func (r *wlRun) ledgers(ctx context.Context) []workload.LedgerOp {
	var out []workload.LedgerOp
	for _, code := range wlBanks {
		b := r.openLedger(ctx, code)
		ops, err := b.Operations(ctx)
		b.Close()
		if err != nil {
			r.t.Fatal(err)
		}
		for _, o := range ops {
			out = append(out, workload.LedgerOp{Bank: code, OperationRecord: o})
		}
	}
	return out
}

// scanLogs fails the test if a process reported a data race.
func (r *wlRun) scanLogs() {
	logs, _ := filepath.Glob(filepath.Join(r.dir, "*.log"))
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if n := strings.Count(string(b), "WARNING: DATA RACE"); n > 0 {
			r.t.Errorf("%s reports %d data races", path, n)
		}
	}
}

// report logs what the run did: ops and outcomes, transfers by state,
// nemesis events, and what the hub's logs say about recovery.
func (r *wlRun) report(f *workload.Final, n *workload.Nemesis, ran, settle time.Duration, unfinished int, seed uint64) {
	t := r.t
	kinds, outcomes, codes := map[string]int{}, map[string]int{}, map[string]int{}
	attempts, retried, results := 0, 0, 0
	for _, op := range f.Ops {
		kinds[op.Kind]++
		outcomes[op.Kind+" "+string(op.Last())]++
		attempts += len(op.Attempts)
		if len(op.Attempts) > 1 {
			retried++
		}
		for _, a := range op.Attempts {
			if a.Result {
				results++
			}
			if a.Outcome == workload.Refused {
				codes[a.RspCode]++
			}
		}
	}
	states, failed := map[string]int{}, map[string]int{}
	for _, x := range f.Transfers {
		s := x.Kind + " " + x.State
		if x.Reversed {
			s += " (reversed)"
		}
		states[s]++
		if x.State == "failed" {
			failed[x.RspCode]++
		}
	}
	counts, errs := n.Counts()
	t.Logf("seed %d: ran %v with %d clients; %d ops (%v), %d requests (%d ops retried, %d transfer/result lookups)",
		seed, ran.Round(time.Millisecond), *workloadClients, len(f.Ops), kinds, attempts, retried, results)
	t.Logf("last answer per op: %v; refusals: %v", sortedCounts(outcomes), sortedCounts(codes))
	t.Logf("hub transfers: %d %v, failed by bank_rsp_code %v; %d unfinished after waiting %v",
		len(f.Transfers), sortedCounts(states), sortedCounts(failed), unfinished, settle.Round(time.Millisecond))
	t.Logf("daily withdrawal limit raised %d times to %d KRW", len(f.LimitChanges), f.WithdrawLimit)
	t.Logf("nemesis: %v (%d not applied)", sortedCounts(counts), len(errs))
	hubLog := map[string]int{}
	for _, hub := range r.hubs {
		for k, v := range hubLogCounts(hub.LogPath) {
			hubLog[k] += v
		}
	}
	t.Logf("hub log: %v", sortedCounts(hubLog))
	bankLost := 0
	for _, code := range wlBanks {
		bankLost += hubLogCounts(filepath.Join(r.dir, "bank-"+code+".log"))["banksim lost response"]
	}
	t.Logf("banks lost %d responses after applying the operation", bankLost)
}

// hubLogCounts counts the hub's log messages that tell about recovery.
func hubLogCounts(path string) map[string]int {
	out := map[string]int{}
	fh, err := os.Open(path)
	if err != nil {
		return out
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m struct {
			Msg   string `json:"msg"`
			Count int    `json:"count"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch m.Msg {
		case "transfers recovered":
			out["recovered"] += m.Count
		case "debit in doubt", "credit in doubt", "reversal not applied; retrying",
			"transfer not saved; another replica continues it", "banksim lost response", "obx serving":
			out[m.Msg]++
		}
	}
	return out
}

func sortedCounts(m map[string]int) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, m[k])
	}
	return "{" + b.String() + "}"
}

var _ workload.Target = (*wlRun)(nil)
