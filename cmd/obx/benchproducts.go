package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

// benchProductsConfig is what obx bench products is told.
type benchProductsConfig struct {
	DSN         string // "" is a temporary SQLite file
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Banks       int
	ATMs        int // per bank
	Branches    int // per bank
	NearbyShare float64
}

// The targets of issue 5, for the hub's answer to one query.
const (
	nearbyTarget  = 2 * time.Millisecond
	compareTarget = 5 * time.Millisecond
)

func runBenchProducts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench products", "Starts the hub in this process on a scratch database (a temporary SQLite file\nunless --db names one: product queries are served from memory either way),\npublishes --banks synthetic catalogs of --atms ATMs, --branches branches and the\ndemo products each through the hub's publishing path (validate, store, index),\ngets an institution token with scope products from the token endpoint, and then\nsends nearest-ATM queries (random points in the data set's cities, open now,\n0.5–2 km) and deposit comparisons over HTTP on loopback from --concurrency\nworkers for --duration. It prints per query kind requests/s, latency\npercentiles and errors by status, the hub's heap for the data set, and whether\nthe targets (nearby p99 < 2 ms, comparison p99 < 5 ms) are met. The load\ngenerator shares the process and its CPUs with the hub.", stderr)
	var cfg benchProductsConfig
	fs.StringVar(&cfg.DSN, "db", "", "database URL postgres://… or sqlite://path of a scratch database (default: a temporary SQLite file)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to measure")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "load before measuring, not counted")
	fs.IntVar(&cfg.Concurrency, "concurrency", 2, "concurrent HTTP workers, each sending its next query when the last one answered")
	fs.IntVar(&cfg.Banks, "banks", 50, "banks publishing a catalog, 1 to 900")
	fs.IntVar(&cfg.ATMs, "atms", 2000, "ATMs per bank")
	fs.IntVar(&cfg.Branches, "branches", 120, "branches per bank")
	fs.Float64Var(&cfg.NearbyShare, "nearby-share", 0.5, "fraction of queries that are nearest-ATM queries; the rest are comparisons")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case cfg.Duration < time.Second:
		return fmt.Errorf("--duration must be at least 1s")
	case cfg.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative")
	case cfg.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1")
	case cfg.Banks < 1 || cfg.Banks > 900:
		return fmt.Errorf("--banks must be from 1 to 900")
	case cfg.ATMs < 1:
		return fmt.Errorf("--atms must be at least 1")
	case cfg.Branches < 1:
		return fmt.Errorf("--branches must be at least 1")
	case cfg.NearbyShare < 0 || cfg.NearbyShare > 1:
		return fmt.Errorf("--nearby-share must be from 0 to 1")
	}
	dbName := "PostgreSQL"
	if cfg.DSN == "" {
		dir, err := os.MkdirTemp("", "obx-bench-products-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DSN, dbName = "sqlite://"+filepath.Join(dir, "hub.db"), "SQLite, a temporary file"
	} else if strings.HasPrefix(cfg.DSN, "sqlite:") {
		dbName = "SQLite"
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return benchProducts(ctx, cfg, dbName, logger, stdout)
}

// placeSample is where nearby queries are sent from: a sample of the data
// set's ATM locations, so that every query falls inside one of its cities.
type placeSample []obx.Location

func benchProducts(ctx context.Context, cfg benchProductsConfig, dbName string, logger *slog.Logger, out io.Writer) error {
	h, err := openHub(ctx, hubConfig{DSN: cfg.DSN, Seed: 1, BankTimeout: 5 * time.Second, AccessTTL: time.Hour, Logger: logger})
	if err != nil {
		return err
	}
	defer h.Close()
	if err := refuseOtherTSPs(ctx, h); err != nil {
		return err
	}

	// The heap before and after publishing, each after two collections (the
	// second empties what sync.Pools kept through the first), so that the
	// difference is what the hub keeps for the data set.
	var before, after runtime.MemStats
	preloaded := h.index.Head(benchBankCode(0)).Version > 0
	readHeap(&before)
	began := time.Now()
	points, err := publishBenchCatalogs(ctx, h, cfg)
	if err != nil {
		return err
	}
	published := time.Since(began)
	readHeap(&after)

	base, client, stop, err := serveLoopback(ctx, h, logger, cfg.Concurrency)
	if err != nil {
		return err
	}
	defer stop()
	token, err := productsToken(ctx, h, client, base)
	if err != nil {
		return fmt.Errorf("institution token: %w", err)
	}

	fmt.Fprintf(out, "obx bench products (%s, GOMAXPROCS %d of %d CPUs)\n", runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(out, "database     %s\n", dbName)
	fmt.Fprintf(out, "data set     %d banks × (%s ATMs + %s branches + demo products), published in %s\n",
		cfg.Banks, groupDigits(int64(cfg.ATMs)), groupDigits(int64(cfg.Branches)), published.Round(time.Millisecond))
	fmt.Fprintf(out, "memory       hub live heap %s before publishing, %s after: %s for the data set; heap in use %s → %s\n",
		mib(before.HeapAlloc), mib(after.HeapAlloc), mibDiff(before.HeapAlloc, after.HeapAlloc), mib(before.HeapInuse), mib(after.HeapInuse))
	if preloaded {
		fmt.Fprintln(out, "memory       NOTE: --db already held the bench's catalogs, loaded before publishing: use a fresh database to measure the data set")
	}
	fmt.Fprintf(out, "load         %d workers over HTTP on loopback, %.0f%% nearest-ATM queries, %s after %s warm-up\n",
		cfg.Concurrency, 100*cfg.NearbyShare, cfg.Duration, cfg.Warmup)

	res := productLoad(ctx, client, base, token, points, cfg)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(out, "%-12s %10s %9s %9s %9s %9s %9s  %s\n", "query", "requests", "per s", "p50", "p95", "p99", "max", "errors")
	for _, k := range []string{"nearby", "compare"} {
		r := res[k]
		n := len(r.latencies)
		fmt.Fprintf(out, "%-12s %10s %9.1f %9s %9s %9s %9s  %s\n", k, groupDigits(int64(n)), float64(n)/r.window.Seconds(),
			ms2(r.percentile(0.50)), ms2(r.percentile(0.95)), ms2(r.percentile(0.99)), ms2(r.percentile(1)), errorList(r.codes))
		fmt.Fprintf(out, "%-12s %10s %9s %9s %9s %9s %9s\n", "  in hub", groupDigits(int64(len(r.inHub))), "",
			ms2(percentile(r.inHub, 0.50)), ms2(percentile(r.inHub, 0.95)), ms2(percentile(r.inHub, 0.99)), ms2(percentile(r.inHub, 1)))
	}
	fmt.Fprintf(out, "target       in the hub: nearby p99 < %s: %s; compare p99 < %s: %s\n",
		ms2(nearbyTarget), targetMet(res["nearby"], nearbyTarget), ms2(compareTarget), targetMet(res["compare"], compareTarget))
	return nil
}

// targetMet says whether the hub's own p99 for r (its Server-Timing, which
// leaves out the loopback network and the load generator sharing the CPUs)
// is under target, with no errors.
func targetMet(r *benchResult, target time.Duration) string {
	switch {
	case len(r.inHub) == 0:
		return "not measured"
	case len(r.codes) > 0:
		return "NOT met (errors)"
	}
	return metOrNot(percentile(r.inHub, 0.99) < target)
}

func errorList(codes map[string]int) string {
	if len(codes) == 0 {
		return "none"
	}
	var parts []string
	for code, n := range codes {
		parts = append(parts, fmt.Sprintf("%s %d", code, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// readHeap reads m after collecting all garbage.
func readHeap(m *runtime.MemStats) {
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(m)
}

func ms2(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func mibDiff(from, to uint64) string {
	return fmt.Sprintf("%+.1f MiB", (float64(to)-float64(from))/(1<<20))
}

// refuseOtherTSPs keeps the bench off a database that holds TSPs other than
// earlier benches'.
func refuseOtherTSPs(ctx context.Context, h *hub) error {
	var others int
	if err := h.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM tsps WHERE name NOT LIKE 'obx bench %'`).Scan(&others); err != nil {
		return fmt.Errorf("count TSPs: %w", err)
	}
	if others > 0 {
		return fmt.Errorf("the database holds %d TSPs that are not the bench's: run the bench against a scratch database", others)
	}
	return nil
}

// benchBankCode is the code of the bench's bank i.
func benchBankCode(i int) string { return fmt.Sprintf("%03d", 100+i) }

// publishBenchCatalogs publishes the synthetic data set through h's
// publishing path, one bank at a time as banks would, and returns a sample
// of its ATM locations. The catalogs themselves are dropped as they go, so
// that the heap afterwards is the hub's.
func publishBenchCatalogs(ctx context.Context, h *hub, cfg benchProductsConfig) (placeSample, error) {
	const perBank = 64 // sampled ATM locations per bank
	var points placeSample
	now := time.Now()
	for i := range cfg.Banks {
		code := benchBankCode(i)
		c := banksim.DemoCatalog(code, "벤치은행"+code, 1, banksim.CatalogOptions{Branches: cfg.Branches, ATMs: cfg.ATMs})
		for j := 0; j < len(c.ATMs); j += max(1, len(c.ATMs)/perBank) {
			points = append(points, c.ATMs[j].Location)
		}
		if _, err := h.products.PublishCatalog(ctx, c); err != nil {
			return nil, fmt.Errorf("publish catalog of bank %s: %w", code, err)
		}
		if _, err := h.products.PublishRates(ctx, banksim.DemoRates(code, 1, now)); err != nil {
			return nil, fmt.Errorf("publish rates of bank %s: %w", code, err)
		}
	}
	return slices.Clip(points), nil
}

// productsToken registers a bench TSP whose client has the products scope
// and gets an institution token for it from the token endpoint.
func productsToken(ctx context.Context, h *hub, client *http.Client, base string) (string, error) {
	t, err := seedProductsTSP(ctx, h, base)
	if err != nil {
		return "", err
	}
	resp, err := t.post(ctx, client, "/oauth/2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {t.clientID}, "client_secret": {t.secret},
		"scope": {obx.ScopeProducts},
	})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("client_credentials: status %d", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// seedProductsTSP creates an active TSP with one client allowed the products
// scope.
func seedProductsTSP(ctx context.Context, h *hub, base string) (*benchTSP, error) {
	t, _, err := newBenchTSP(ctx, h, base, "obx bench products", []string{obx.ScopeProducts})
	return t, err
}

// comparisons are the comparison queries the bench sends: time deposits by
// currency and term, best rate first, as a TSP's comparison page would ask.
var comparisons = func() []string {
	var qs []string
	for _, q := range []struct {
		cur    string
		amount int64
	}{{"KRW", 10_000_000}, {"USD", 1_000_000}, {"EUR", 500_000}, {"JPY", 100_000_000}, {"CNY", 5_000_000}} {
		for _, term := range []int{3, 6, 12, 24} {
			qs = append(qs, fmt.Sprintf("/products/v1/compare/deposits?kind=time&currency=%s&term_months=%d&amount=%d&limit=20",
				q.cur, term, q.amount))
		}
	}
	return qs
}()

// nearbyQuery returns a nearest-ATM query from a random point within about a
// kilometre of a sampled ATM: 10 ATMs open now within 0.5, 1 or 2 km.
func nearbyQuery(r *rand.Rand, points placeSample) string {
	p := points[r.IntN(len(points))]
	radius := []int{500, 1000, 2000}[r.IntN(3)]
	return fmt.Sprintf("/products/v1/nearby?kind=atm&lat=%.5f&lon=%.5f&radius_m=%d&open_now=true&limit=10",
		p.Lat+(r.Float64()-0.5)*0.02, p.Lon+(r.Float64()-0.5)*0.02, radius)
}

// productLoad runs the workers through the warm-up and the measured window
// and returns what they saw per query kind.
func productLoad(ctx context.Context, client *http.Client, base, token string, points placeSample, cfg benchProductsConfig) map[string]*benchResult {
	start := time.Now()
	from, until := start.Add(cfg.Warmup), start.Add(cfg.Warmup+cfg.Duration)
	type tally struct{ nearby, compare benchResult }
	tallies := make([]tally, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			tl := &tallies[w]
			tl.nearby.codes, tl.compare.codes = map[string]int{}, map[string]int{}
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(until) {
					return
				}
				kind, path := &tl.compare, comparisons[r.IntN(len(comparisons))]
				if r.Float64() < cfg.NearbyShare {
					kind, path = &tl.nearby, nearbyQuery(r, points)
				}
				code, inHub := getProducts(ctx, client, base+path, token)
				if began.Before(from) {
					continue
				}
				kind.latencies = append(kind.latencies, time.Since(began))
				if inHub > 0 {
					kind.inHub = append(kind.inHub, inHub)
				}
				if code == "" {
					kind.ok++
				} else {
					kind.codes[code]++
				}
			}
		}()
	}
	wg.Wait()
	res := map[string]*benchResult{}
	for _, k := range []string{"nearby", "compare"} {
		res[k] = &benchResult{window: cfg.Duration, codes: map[string]int{}}
	}
	for i := range tallies {
		for k, t := range map[string]*benchResult{"nearby": &tallies[i].nearby, "compare": &tallies[i].compare} {
			res[k].ok += t.ok
			res[k].latencies = append(res[k].latencies, t.latencies...)
			res[k].inHub = append(res[k].inHub, t.inHub...)
			for c, n := range t.codes {
				res[k].codes[c] += n
			}
		}
	}
	for _, r := range res {
		slices.Sort(r.latencies)
		slices.Sort(r.inHub)
	}
	return res
}

// getProducts sends one product query and reads the whole answer. It
// returns "" for a 200, else the status or what kept it from getting one,
// and the time the hub reported spending on it (its Server-Timing header).
func getProducts(ctx context.Context, client *http.Client, u, token string) (code string, inHub time.Duration) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "request", 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled", 0
		}
		return "transport", 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "transport", 0
	}
	inHub = hubTiming(resp.Header.Get("Server-Timing"))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("HTTP %d", resp.StatusCode), inHub
	}
	return "", inHub
}

// hubTiming reads the hub's duration from a Server-Timing header
// "hub;dur=<milliseconds>"; 0 if absent.
func hubTiming(h string) time.Duration {
	_, dur, ok := strings.Cut(h, "hub;dur=")
	if !ok {
		return 0
	}
	ms, err := strconv.ParseFloat(dur, 64)
	if err != nil {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}
