package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for pgbench's scratch database

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/sqlstore"
)

const benchUsage = `Usage: obx bench <benchmark> [flags]

Benchmarks:

	transfers  withdrawals through the HTTP API of an in-process hub on PostgreSQL,
	           next to pgbench's TPC-B-like TPS on the same server
	products   nearest-ATM queries and product comparisons through the HTTP API of
	           an in-process hub over a synthetic data set (50 banks × 2,000 ATMs)

Run "obx bench transfers --help" or "obx bench products --help" for their flags.
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "transfers" {
		return runBenchTransfers(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "products" {
		return runBenchProducts(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, benchUsage)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		return flag.ErrHelp
	}
	return fmt.Errorf("unknown benchmark %q", args[0])
}

// benchConfig is what obx bench transfers is told.
type benchConfig struct {
	DSN          string
	Duration     time.Duration
	Warmup       time.Duration
	Concurrency  int
	Banks        int
	Amount       int64
	PgbenchScale int
	Pgbench      string // pgbench's path; "" finds it
	CPUProfile   string
	Rounds       int // measured windows, each followed by a pgbench run
}

func runBenchTransfers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench transfers", "Starts the hub in this process on the PostgreSQL database --db, with simulated\nbanks and sandbox tools, seeds a TSP whose contract has a very high limit,\nconsents the demo customers through the sandbox, and then sends withdrawals\nthrough the HTTP API on loopback from --concurrency workers for --duration. It\nprints withdrawals/s, latency percentiles and errors by rsp_code, then runs\npgbench's TPC-B-like load on a scratch database of the same server for the same\ntime and prints the ratio. Use a scratch database: the bench refuses one that\nholds other TSPs. The server must be durable (synchronous_commit, fsync).", stderr)
	var cfg benchConfig
	fs.StringVar(&cfg.DSN, "db", "", "PostgreSQL URL postgres://… of a scratch database (required)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to measure (and to run pgbench)")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "concurrent HTTP workers (and pgbench clients)")
	fs.IntVar(&cfg.Banks, "banks", 3, fmt.Sprintf("simulated banks, 1 to %d (097 always, holding the TSP's account)", len(banksim.DemoBanks)))
	fs.Int64Var(&cfg.Amount, "amount", 1, "won per withdrawal")
	fs.IntVar(&cfg.PgbenchScale, "pgbench-scale", 0, "pgbench -i scale factor (default: the concurrency, at least 10)")
	fs.StringVar(&cfg.Pgbench, "pgbench", "", "path of pgbench (default: from PATH or /usr/lib/postgresql/*/bin)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a Go CPU profile of the (first) measured run to this file")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "rounds of withdrawals then pgbench, alternating; the ratio is the median of the rounds'")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case !strings.HasPrefix(cfg.DSN, "postgres://") && !strings.HasPrefix(cfg.DSN, "postgresql://"):
		return fmt.Errorf("--db must be a PostgreSQL URL postgres://…: the bench compares with pgbench on the same server")
	case cfg.Duration < time.Second:
		return fmt.Errorf("--duration must be at least 1s")
	case cfg.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative")
	case cfg.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1")
	case cfg.Banks < 1 || cfg.Banks > len(banksim.DemoBanks):
		return fmt.Errorf("--banks must be from 1 to %d", len(banksim.DemoBanks))
	case cfg.Amount < 1:
		return fmt.Errorf("--amount must be at least 1")
	case cfg.Rounds < 1:
		return fmt.Errorf("--rounds must be at least 1")
	case cfg.PgbenchScale < 0:
		return fmt.Errorf("--pgbench-scale must be at least 1")
	case cfg.PgbenchScale == 0:
		// pgbench's manual: the scale should be at least the number of
		// clients, or the run mostly measures contention on the few
		// branches rows (at 96 clients, scale 10 gave about a fifth less
		// tps than scale 50), which would flatter the hub.
		cfg.PgbenchScale = max(10, cfg.Concurrency)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var rounds []benchRound
	err := benchHub(ctx, cfg, logger, stdout, func(res *benchResult) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pg, pgCPU, err := runPgbench(ctx, cfg, stdout)
		if err != nil {
			return err
		}
		rounds = append(rounds, benchRound{res, pg})
		if pgCPU > 0 && res.cpu != nil && res.ok > 0 {
			wdCPU := float64(res.cpu.client+res.cpu.server) / float64(res.ok)
			fmt.Fprintf(stdout, "cpu ratio    CPU per pgbench transaction ÷ CPU per withdrawal = %.2f\n", float64(pgCPU)/wdCPU)
		}
		if pg > 0 {
			fmt.Fprintf(stdout, "ratio        withdrawals/s ÷ pgbench tps = %.2f\n", res.rate()/pg)
			fmt.Fprintf(stdout, "target       withdrawals/s ≥ pgbench tps: %s; p99 < 50 ms: %s\n",
				metOrNot(res.rate() >= pg), metOrNot(res.percentile(0.99) < 50*time.Millisecond))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(rounds) > 1 {
		summarizeRounds(stdout, rounds, cfg.Duration)
	}
	return nil
}

// benchRound is one measured window of withdrawals and the pgbench run after
// it (tps 0: pgbench was not found). Each pgbench run initializes a scratch
// database of its own, so that every round starts pgbench from the same
// tables rather than from the history the earlier rounds grew.
type benchRound struct {
	res *benchResult
	tps float64
}

// summarizeRounds prints what several rounds measured together. On a shared
// machine the neighbours' load moves throughput by a fifth within minutes,
// and it moves the hub and pgbench alike only when they run close together:
// so each round's ratio compares a withdrawal window with the pgbench run
// right after it, and the summary takes the median of those ratios rather
// than a ratio of figures measured minutes apart. Latency percentiles pool
// every request of every round.
func summarizeRounds(w io.Writer, rounds []benchRound, d time.Duration) {
	var rates, tps, ratios []float64
	var all []time.Duration
	for _, r := range rounds {
		rates = append(rates, r.res.rate())
		all = append(all, r.res.latencies...)
		if r.tps > 0 {
			tps = append(tps, r.tps)
			ratios = append(ratios, r.res.rate()/r.tps)
		}
	}
	slices.Sort(all)
	fmt.Fprintf(w, "summary      %d rounds of %s, withdrawals and pgbench alternating\n", len(rounds), d)
	fmt.Fprintf(w, "withdrawals  median %.1f/s (%s)\n", median(rates), spread(rates, "%.1f"))
	fmt.Fprintf(w, "latency      all rounds: %s\n", latencies(all))
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintf(w, "pgbench      median %.1f tps (%s)\n", median(tps), spread(tps, "%.1f"))
	fmt.Fprintf(w, "ratio        median of the rounds' ratios = %.2f (%s)\n", median(ratios), spread(ratios, "%.2f"))
	fmt.Fprintf(w, "target       median ratio ≥ 1: %s; p99 of all rounds < 50 ms: %s\n",
		metOrNot(median(ratios) >= 1), metOrNot(percentile(all, 0.99) < 50*time.Millisecond))
}

// median returns the median of xs, which must not be empty.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// spread formats the smallest and largest of xs as "min–max".
func spread(xs []float64, format string) string {
	return fmt.Sprintf(format+"–"+format, slices.Min(xs), slices.Max(xs))
}

func metOrNot(b bool) string {
	if b {
		return "met"
	}
	return "NOT met"
}

// benchResult is what the workers saw in the measured window.
type benchResult struct {
	window    time.Duration
	ok        int
	cpu       *cpuUse         // nil when not measured
	latencies []time.Duration // of every request, sorted
	inHub     []time.Duration // the hub's own time per request (Server-Timing), sorted; product bench only
	codes     map[string]int  // rsp_code (or transport failure) of every request that did not complete
}

func (r *benchResult) rate() float64 { return float64(r.ok) / r.window.Seconds() }

// percentile returns the latency below which fraction q of the requests fell.
func (r *benchResult) percentile(q float64) time.Duration { return percentile(r.latencies, q) }

// percentile returns the value below which fraction q of sorted fell.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// benchBanks returns the first n demo banks, 097 (the testbed bank, where
// every demo customer and the TSP hold accounts) first.
func benchBanks(n int) []bankSpec {
	banks := []bankSpec{{Code: banksim.TestbedBankCode, Name: banksim.DemoBankName(banksim.TestbedBankCode)}}
	for _, b := range banksim.DemoBanks {
		if len(banks) < n && b.Code != banksim.TestbedBankCode {
			banks = append(banks, bankSpec{Code: b.Code, Name: b.Name})
		}
	}
	return banks
}

// benchHub runs the hub part: hub, seed, consents, then cfg.Rounds windows of
// load, each reported and followed by afterRound while the hub stays up.
func benchHub(ctx context.Context, cfg benchConfig, logger *slog.Logger, out io.Writer, afterRound func(*benchResult) error) error {
	simDir, err := os.MkdirTemp("", "obx-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(simDir)
	banks := benchBanks(cfg.Banks)
	h, err := openHub(ctx, hubConfig{
		DSN: cfg.DSN, Sandbox: true, Banks: banks, SimDir: simDir, Seed: 1,
		BankTimeout: 5 * time.Second, AccessTTL: time.Hour, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer h.Close()
	dbInfo, err := durability(ctx, h.db.SQL())
	if err != nil {
		return err
	}
	if err := refuseOtherTSPs(ctx, h); err != nil {
		return err
	}

	base, client, stop, err := serveLoopback(ctx, h, logger, cfg.Concurrency)
	if err != nil {
		return err
	}
	defer stop()

	tsp, err := seedBenchTSP(ctx, h, base)
	if err != nil {
		return fmt.Errorf("seed TSP: %w", err)
	}
	payers, err := tsp.consentAll(ctx, client, banks)
	if err != nil {
		return fmt.Errorf("consent: %w", err)
	}
	codes := make([]string, len(banks))
	for i, b := range banks {
		codes[i] = b.Code
	}
	fmt.Fprintf(out, "obx bench transfers (%s, GOMAXPROCS %d of %d CPUs)\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(out, "database     %s: synchronous_commit=%s, fsync=%s\n", dbInfo.version, dbInfo.syncCommit, dbInfo.fsync)
	fmt.Fprintf(out, "hub          in process, simulated banks %s, sandbox\n", strings.Join(codes, " "))
	fmt.Fprintf(out, "load         %d workers over HTTP on loopback, %d customer accounts, %d won each, %s after %s warm-up\n",
		cfg.Concurrency, len(payers), cfg.Amount, cfg.Duration, cfg.Warmup)
	maxConns, others, err := connectionRoom(ctx, h.db.SQL())
	if err != nil {
		return err
	}
	if w := crowdedWarning(cfg.Concurrency, maxConns, others); w != "" {
		fmt.Fprintln(out, w)
	}

	checkpoint(ctx, h.db.SQL())
	meter := &cpuMeter{db: h.db.SQL(), client: os.Getpid()}
	if err := h.db.SQL().QueryRowContext(ctx, `SELECT current_database()`).Scan(&meter.datname); err != nil {
		return err
	}
	for round := range cfg.Rounds {
		if cfg.Rounds > 1 {
			fmt.Fprintf(out, "round        %d of %d\n", round+1, cfg.Rounds)
		}
		res, err := tsp.load(ctx, payers, cfg, meter)
		if err != nil {
			return err
		}
		cfg.CPUProfile = "" // the first round's only
		reportLoad(out, res)
		if err := afterRound(res); err != nil {
			return err
		}
		checkpoint(ctx, h.db.SQL())
	}
	return nil
}

// reportLoad prints what one measured window of withdrawals saw.
func reportLoad(out io.Writer, res *benchResult) {
	fmt.Fprintf(out, "withdrawals  %s completed in %s: %.1f/s\n", groupDigits(int64(res.ok)), res.window.Round(time.Millisecond), res.rate())
	fmt.Fprintf(out, "latency      %s\n", latencies(res.latencies))
	if len(res.codes) == 0 {
		fmt.Fprintln(out, "errors       none")
	} else {
		var parts []string
		for code, n := range res.codes {
			parts = append(parts, fmt.Sprintf("%s %d", code, n))
		}
		slices.Sort(parts)
		fmt.Fprintf(out, "errors       %s\n", strings.Join(parts, ", "))
	}
	if res.cpu != nil && res.ok > 0 {
		fmt.Fprintf(out, "cpu          per withdrawal: obx process %s (hub, simulated banks, load generator), PostgreSQL %s\n",
			perOp(res.cpu.client, float64(res.ok)), perOp(res.cpu.server, float64(res.ok)))
	}
}

// serveLoopback serves h on a loopback port until stop, and returns its base
// URL and a client with keep-alive connections enough for concurrency
// workers, no redirects followed. The products bench loads the hub through
// the client; the transfers bench only sets up its consents with it.
func serveLoopback(ctx context.Context, h *hub, logger *slog.Logger, concurrency int) (base string, client *http.Client, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(serveCtx, newHTTPServer(h.handler), ln, logger) }()
	client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy: nil, MaxIdleConns: 2 * concurrency, MaxIdleConnsPerHost: 2 * concurrency,
			IdleConnTimeout: 90 * time.Second, DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	stop = func() {
		client.CloseIdleConnections()
		stopServe()
		<-served
	}
	return "http://" + ln.Addr().String(), client, stop, nil
}

// latencies formats the percentiles the bench reports of sorted.
func latencies(sorted []time.Duration) string {
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", ms(percentile(sorted, 0.50)), ms(percentile(sorted, 0.95)),
		ms(percentile(sorted, 0.99)), ms(percentile(sorted, 1)))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// checkpoint asks the server to write out its dirty pages, so that neither
// measurement pays for what the set-up or the other one left behind. It needs
// superuser or pg_checkpoint; without them the bench goes on regardless.
func checkpoint(ctx context.Context, db *sql.DB) {
	db.ExecContext(ctx, `CHECKPOINT`)
}

type dbInfo struct{ version, syncCommit, fsync string }

// durability reads the server's version and durability settings as the hub's
// sessions see them, and refuses a server that may lose committed
// transactions: the bench measures durable transfers.
func durability(ctx context.Context, db *sql.DB) (dbInfo, error) {
	var i dbInfo
	err := db.QueryRowContext(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
		current_setting('fsync')`).Scan(&i.version, &i.syncCommit, &i.fsync)
	if err != nil {
		return i, fmt.Errorf("read server settings: %w", err)
	}
	i.version = "PostgreSQL " + i.version
	if i.syncCommit == "off" || i.fsync != "on" {
		return i, fmt.Errorf("the server is not durable (synchronous_commit=%s, fsync=%s): the bench measures durable transfers", i.syncCommit, i.fsync)
	}
	return i, nil
}

// connectionRoom reads the server's max_connections and how many client
// sessions it has to databases other than db's.
func connectionRoom(ctx context.Context, db *sql.DB) (maxConns, others int, err error) {
	err = db.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int,
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname <> current_database())`).Scan(&maxConns, &others)
	if err != nil {
		return 0, 0, fmt.Errorf("read max_connections: %w", err)
	}
	return maxConns, others, nil
}

// crowdedWarning says when pgbench's clients, added to the hub's pool and
// the server's other sessions, may not fit in max_connections: pgbench then
// fails after the withdrawals were measured ("sorry, too many clients
// already"), since the hub keeps its connections open while pgbench runs.
func crowdedWarning(clients, maxConns, others int) string {
	need := clients + sqlstore.PostgresPoolSize + others
	if need <= maxConns {
		return ""
	}
	return fmt.Sprintf("warning      pgbench's %d clients, the hub's pool of up to %d and %d other sessions may need %d connections; the server allows max_connections=%d, so pgbench may fail to connect: lower --concurrency or raise max_connections",
		clients, sqlstore.PostgresPoolSize, others, need, maxConns)
}

// benchTSP is the bench's TSP as its app sees the hub.
type benchTSP struct {
	base, useCode, clientID, secret, redirectURI, cntr string
	seq                                                atomic.Int64
}

// newBenchTSP creates an active TSP, named so that the benches recognise
// their own, with one sandbox client allowed scopes.
func newBenchTSP(ctx context.Context, h *hub, base, app string, scopes []string) (*benchTSP, *obx.TSP, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	if err != nil {
		return nil, nil, err
	}
	t := &benchTSP{base: base, useCode: fmt.Sprintf("B%09d", n.Int64()), redirectURI: "https://bench.invalid/callback"}
	tsp := &obx.TSP{Name: "obx bench " + t.useCode, ClientUseCode: t.useCode, Status: obx.TSPActive}
	if err := h.db.CreateTSP(ctx, tsp); err != nil {
		return nil, nil, err
	}
	id, secret := oauth.NewClientCredentials()
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		return nil, nil, err
	}
	err = h.db.CreateClient(ctx, &obx.Client{ID: id, TSPID: tsp.ID, Name: app, SecretHash: hash,
		RedirectURIs: []string{t.redirectURI}, Scopes: scopes, Env: obx.EnvSandbox})
	if err != nil {
		return nil, nil, err
	}
	t.clientID, t.secret = id, secret
	return t, tsp, nil
}

// seedBenchTSP creates a TSP with a sandbox client and a contract whose limits
// no run reaches, and its collection account at the testbed bank.
func seedBenchTSP(ctx context.Context, h *hub, base string) (*benchTSP, error) {
	t, tsp, err := newBenchTSP(ctx, h, base, "obx bench app",
		[]string{obx.ScopeLogin, obx.ScopeInquiry, obx.ScopeTransfer, obx.ScopeOOB})
	if err != nil {
		return nil, err
	}
	const unreachable = 1_000_000_000_000_000 // won; limits are still checked and consumed
	err = h.db.SetContract(ctx, &obx.Contract{TSPID: tsp.ID, MainBank: banksim.TestbedBankCode,
		DailyWithdrawLimit: unreachable, UserDailyLimit: unreachable, PerTransferLimit: unreachable,
		DailyDepositLimit: unreachable, PassPhraseHash: obx.HashPassPhrase(demoPassPhrase)})
	if err != nil {
		return nil, err
	}
	acct := banksim.DemoTSPAccounts(banksim.TestbedBankCode)[0]
	t.cntr = acct.Number
	err = h.db.AddContractAccount(ctx, &obx.ContractAccount{TSPID: tsp.ID, BankCode: acct.BankCode,
		AccountNum: acct.Number, HolderName: acct.HolderName, Kind: obx.ContractBoth})
	return t, err
}

// payer is a customer's demand account the TSP may withdraw from.
type payer struct{ token, fin string }

// consentAll consents every demo customer at each of banks where they hold
// accounts, through the sandbox's headless consent and the token endpoint,
// and returns their demand accounts at those banks.
func (t *benchTSP) consentAll(ctx context.Context, client *http.Client, banks []bankSpec) ([]payer, error) {
	bench := map[string]bool{}
	for _, b := range banks {
		bench[b.Code] = true
	}
	var payers []payer
	for _, c := range banksim.DemoCustomers(1) {
		token, seq := "", ""
		for _, bank := range c.Banks {
			if !bench[bank] {
				continue
			}
			var err error
			if token, seq, err = t.consent(ctx, client, bank, c.Login, c.Password); err != nil {
				return nil, fmt.Errorf("%s at %s: %w", c.Login, bank, err)
			}
		}
		if token == "" {
			continue
		}
		var me struct {
			RspCode string `json:"rsp_code"`
			ResList []struct {
				FintechUseNum string `json:"fintech_use_num"`
				BankCodeStd   string `json:"bank_code_std"`
				AccountType   string `json:"account_type"`
				TransferAgree string `json:"transfer_agree_yn"`
			} `json:"res_list"`
		}
		if err := t.call(ctx, client, "GET", "/v2.0/user/me?user_seq_no="+url.QueryEscape(seq), token, nil, &me); err != nil {
			return nil, err
		}
		if me.RspCode != "A0000" {
			return nil, fmt.Errorf("user/me of %s: rsp_code %s", c.Login, me.RspCode)
		}
		for _, a := range me.ResList {
			if bench[a.BankCodeStd] && a.AccountType == "1" && a.TransferAgree == "Y" {
				payers = append(payers, payer{token: token, fin: a.FintechUseNum})
			}
		}
	}
	if len(payers) == 0 {
		return nil, errors.New("no demand account with withdrawal consent")
	}
	return payers, nil
}

// consent completes the sandbox's headless consent as a customer at bank and
// exchanges the code, returning the access token and user_seq_no.
func (t *benchTSP) consent(ctx context.Context, client *http.Client, bank, login, password string) (token, seq string, err error) {
	form := url.Values{
		"response_type": {"code"}, "client_id": {t.clientID}, "redirect_uri": {t.redirectURI},
		"scope": {"login inquiry transfer"}, "state": {"0123456789abcdef0123456789abcdef"}, "auth_type": {"0"},
		"bank_code_std": {bank}, "login": {login}, "password": {password}, "agree": {"Y"},
	}
	resp, err := t.post(ctx, client, "/oauth/2.0/sandbox/authorize", form)
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", "", fmt.Errorf("sandbox authorize: status %d, redirect %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = t.post(ctx, client, "/oauth/2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {t.redirectURI},
		"client_id": {t.clientID}, "client_secret": {t.secret},
	})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		UserSeqNo   string `json:"user_seq_no"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", "", fmt.Errorf("token exchange: status %d", resp.StatusCode)
	}
	return tok.AccessToken, tok.UserSeqNo, nil
}

func (t *benchTSP) post(ctx context.Context, client *http.Client, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", t.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return client.Do(req)
}

// call sends a KFTC API request with token and decodes the JSON answer into v.
func (t *benchTSP) call(ctx context.Context, client *http.Client, method, path, token string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return json.Unmarshal(b, v)
}

// withdrawal is a withdraw/fin_num request body.
type withdrawal struct {
	BankTranID       string `json:"bank_tran_id"`
	CntrAccountType  string `json:"cntr_account_type"`
	CntrAccountNum   string `json:"cntr_account_num"`
	DpsPrintContent  string `json:"dps_print_content"`
	FintechUseNum    string `json:"fintech_use_num"`
	TranAmt          string `json:"tran_amt"`
	TranDtime        string `json:"tran_dtime"`
	ReqClientName    string `json:"req_client_name"`
	ReqClientFin     string `json:"req_client_fintech_use_num"`
	ReqClientNum     string `json:"req_client_num"`
	TransferPurpose  string `json:"transfer_purpose"`
	RecvClientName   string `json:"recv_client_name"`
	RecvClientBank   string `json:"recv_client_bank_code"`
	RecvClientAcctNo string `json:"recv_client_account_num"`
}

// load runs the workers through the warm-up and the measured window.
func (t *benchTSP) load(ctx context.Context, payers []payer, cfg benchConfig, meter *cpuMeter) (*benchResult, error) {
	start := time.Now()
	from, until := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	var profiling sync.WaitGroup
	var profErr error
	var cpu *cpuUse
	if meter != nil {
		profiling.Add(1)
		go func() {
			defer profiling.Done()
			cpu = meter.window(ctx, from, until)
		}()
		// Halfway through the warm-up, analyze the tables as autovacuum
		// would on a running hub. A fresh bench database has no statistics:
		// its first plans, made for empty tables, scan transfers
		// sequentially, and each connection keeps them until an ANALYZE
		// invalidates them, which autovacuum does only after a minute or so.
		profiling.Add(1)
		go func() {
			defer profiling.Done()
			timer := time.NewTimer(cfg.Warmup / 2)
			defer timer.Stop()
			select {
			case <-ctx.Done():
			case <-timer.C:
				meter.db.ExecContext(ctx, `ANALYZE`)
			}
		}()
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		profiling.Add(1)
		sleepUntil := func(t time.Time) bool {
			timer := time.NewTimer(time.Until(t))
			defer timer.Stop()
			select {
			case <-ctx.Done():
				return false
			case <-timer.C:
				return true
			}
		}
		go func() {
			defer profiling.Done()
			defer f.Close()
			if !sleepUntil(from) {
				return
			}
			if profErr = pprof.StartCPUProfile(f); profErr == nil {
				sleepUntil(until)
				pprof.StopCPUProfile()
			}
		}()
	}
	type tally struct {
		ok        int
		latencies []time.Duration
		codes     map[string]int
	}
	tallies := make([]tally, cfg.Concurrency)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl := &tallies[w]
			tl.codes = map[string]int{}
			conn := &benchConn{addr: strings.TrimPrefix(t.base, "http://")}
			defer conn.close()
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(until) {
					return
				}
				p := payers[int(next.Add(1))%len(payers)]
				code := t.withdraw(ctx, conn, p, cfg.Amount)
				if began.Before(from) {
					continue
				}
				tl.latencies = append(tl.latencies, time.Since(began))
				if code == "A0000" {
					tl.ok++
				} else {
					tl.codes[code]++
				}
			}
		}()
	}
	wg.Wait()
	profiling.Wait()
	if profErr != nil {
		return nil, fmt.Errorf("cpu profile: %w", profErr)
	}
	res := &benchResult{window: cfg.Duration, codes: map[string]int{}, cpu: cpu}
	for _, tl := range tallies {
		res.ok += tl.ok
		res.latencies = append(res.latencies, tl.latencies...)
		for c, n := range tl.codes {
			res.codes[c] += n
		}
	}
	slices.Sort(res.latencies)
	return res, nil
}

// withdraw sends one withdrawal and returns its rsp_code, or what kept it
// from getting one.
func (t *benchTSP) withdraw(ctx context.Context, conn *benchConn, p payer, amount int64) string {
	body, err := json.Marshal(withdrawal{
		BankTranID: fmt.Sprintf("%sU%09d", t.useCode, t.seq.Add(1)), CntrAccountType: "N", CntrAccountNum: t.cntr,
		DpsPrintContent: "오비엑스벤치", FintechUseNum: p.fin, TranAmt: strconv.FormatInt(amount, 10),
		TranDtime: time.Now().In(kstZone).Format("20060102150405"), ReqClientName: "벤치고객",
		ReqClientFin: p.fin, ReqClientNum: "BENCH0001", TransferPurpose: "TR",
		RecvClientName: "오비엑스벤치", RecvClientBank: banksim.TestbedBankCode, RecvClientAcctNo: t.cntr,
	})
	if err != nil {
		return "marshal"
	}
	answer, err := conn.post(ctx, "/v2.0/transfer/withdraw/fin_num", p.token, body)
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled"
		}
		return "transport"
	}
	return rspCode(answer)
}

// rspCodeField is how the hub writes an answer's rsp_code.
var rspCodeField = []byte(`"rsp_code":"`)

// rspCode returns the rsp_code of a KFTC answer. The load generator needs no
// other field, and decoding the whole answer was a sixth of its CPU, so it
// finds the field as the hub writes it, and decodes only answers it cannot
// read that way; "decode" names one that is not JSON.
func rspCode(answer []byte) string {
	if i := bytes.Index(answer, rspCodeField); i >= 0 {
		rest := answer[i+len(rspCodeField):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
			return string(rest[:j])
		}
	}
	var r struct {
		RspCode string `json:"rsp_code"`
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return "decode"
	}
	return r.RspCode
}

// benchConn is one load worker's keep-alive HTTP/1.1 connection to the hub.
// A worker has one request in flight at a time, so it writes the request
// and reads the answer on its own goroutine, with the standard library's
// Request.Write and ReadResponse. An http.Client would pass each request
// through its connection's reader and writer goroutines: 13% of the
// process's CPU went to the load generator that way (7% now), all of it
// taken from the hub on a shared machine.
type benchConn struct {
	addr string // host:port
	conn net.Conn
	br   *bufio.Reader
}

// post sends body to path with token and returns the body of a 200 answer.
// Any failure closes the connection; the next call dials again.
func (c *benchConn) post(ctx context.Context, path, token string, body []byte) (answer []byte, err error) {
	if c.conn == nil {
		var d net.Dialer
		if c.conn, err = d.DialContext(ctx, "tcp", c.addr); err != nil {
			c.conn = nil
			return nil, err
		}
		c.br = bufio.NewReader(c.conn)
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	conn := c.conn
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	defer context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })()
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return nil, err
	}
	answer, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.Close {
		c.close()
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s: HTTP %d", path, resp.StatusCode)
	}
	return answer, nil
}

func (c *benchConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

var pgbenchTPS = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// runPgbench runs pgbench's TPC-B-like load with the bench's concurrency and
// duration on a scratch database of cfg.DSN's server, dropped afterwards, and
// returns its TPS; 0 when pgbench is not installed.
func runPgbench(ctx context.Context, cfg benchConfig, w io.Writer) (tps float64, cpuPerTx time.Duration, err error) {
	bin := cfg.Pgbench
	if bin == "" {
		bin, _ = exec.LookPath("pgbench")
	}
	if bin == "" {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(found) > 0 {
			bin = found[len(found)-1]
		}
	}
	if bin == "" {
		fmt.Fprintln(w, "pgbench      not found: skipped. Install it with PostgreSQL's client tools (Debian: apt-get install postgresql-client), or pass --pgbench")
		return 0, 0, nil
	}
	u, err := url.Parse(cfg.DSN)
	if err != nil {
		return 0, 0, fmt.Errorf("--db: %w", err)
	}
	admin, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		return 0, 0, err
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	scratch := "obx_pgbench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+scratch); err != nil {
		return 0, 0, fmt.Errorf("create pgbench's scratch database: %w", err)
	}
	defer admin.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+scratch+` WITH (FORCE)`)
	u.Path = "/" + scratch
	target := u.String()
	scratchDB, err := sql.Open("pgx", target)
	if err != nil {
		return 0, 0, err
	}
	info, err := durability(ctx, scratchDB)
	scratchDB.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench's database: %w", err)
	}

	pgbench := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, append(args, target)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, b)
		}
		return string(b), nil
	}
	if _, err := pgbench("-i", "-q", "-s", strconv.Itoa(cfg.PgbenchScale)); err != nil {
		return 0, 0, err
	}
	checkpoint(ctx, admin)
	secs := strconv.Itoa(int(math.Ceil(cfg.Duration.Seconds())))
	threads := strconv.Itoa(min(2, cfg.Concurrency))
	args := []string{"-c", strconv.Itoa(cfg.Concurrency), "-j", threads, "-T", secs}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(args, target)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("pgbench: %w", err)
	}
	// CPU is measured from a second after the start, once every client is
	// connected, to a second before the end.
	began := time.Now()
	meter := &cpuMeter{db: admin, datname: scratch, client: cmd.Process.Pid}
	var cpu *cpuUse
	var cpuWindow time.Duration
	if cfg.Duration >= 4*time.Second {
		from, until := began.Add(time.Second), began.Add(cfg.Duration-time.Second)
		cpu, cpuWindow = meter.window(ctx, from, until), until.Sub(from)
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, out.Bytes())
	}
	text := out.String()
	m := pgbenchTPS.FindStringSubmatch(text)
	if m == nil {
		return 0, 0, fmt.Errorf("pgbench printed no tps:\n%s", text)
	}
	tps, err = strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench tps %q: %w", m[1], err)
	}
	fmt.Fprintf(w, "pgbench      TPC-B-like, scale %d, pgbench %s (synchronous_commit=%s): %.1f tps\n",
		cfg.PgbenchScale, strings.Join(args, " "), info.syncCommit, tps)
	if cpu != nil {
		n := tps * cpuWindow.Seconds()
		fmt.Fprintf(w, "cpu          per pgbench transaction: pgbench %s, PostgreSQL %s\n",
			perOp(cpu.client, n), perOp(cpu.server, n))
		cpuPerTx = time.Duration(float64(cpu.client+cpu.server) / n)
	}
	return tps, cpuPerTx, nil
}
