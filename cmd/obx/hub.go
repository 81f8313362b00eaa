package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankguard"
	"github.com/obxhub/obx/bankhttp"
	"github.com/obxhub/obx/banksim"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/productindex"
	"github.com/obxhub/obx/sqlstore"
	"github.com/obxhub/obx/web"
)

// newLogger returns a slog logger writing text (for people) or JSON (for log
// pipelines) to w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// newHTTPServer returns a server with timeouts that bound what a slow or
// malicious client can hold: headers within 10 s, a whole request within 30 s,
// idle keep-alive connections for 2 minutes. Writes may take a minute, longer
// than any bank timeout.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully:
// in-flight requests get up to 15 seconds to finish.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bankSpec says how the hub reaches one bank: in process (URL "") or over the
// bank adapter protocol at URL.
type bankSpec struct {
	Code, Name string
	URL        string
	Token      string
}

// hubConfig is everything demo and serve configure.
type hubConfig struct {
	DSN         string
	Sandbox     bool // sandbox-only tools: headless consent, fault injection, callback page
	Banks       []bankSpec
	SimDir      string // where in-process simulated banks keep their ledgers
	Seed        int64
	BankTimeout time.Duration
	AccessTTL   time.Duration
	Logger      *slog.Logger
	Settle      settleConfig // the settlement cut-off
	BaseURL     string       // the hub's public URL, for links in mail and logs
	Secure      bool         // served over HTTPS: session cookies are Secure
	// LiveBanks are the codes of live bank connections. When there are any,
	// only live credentials reach them and only sandbox credentials reach
	// the other (simulated) banks; with none, as in the demo, every bank
	// serves both, so a TSP taken live has somewhere to go.
	LiveBanks []string
	// Mailer sends password-reset mail; nil writes the links to the log.
	Mailer web.Mailer
	// RecordCalls keeps every TSP's recent API calls for the portal
	// (written in batches off the request path).
	RecordCalls bool
}

// bankGuard returns the guard of bank code: g with the environment that
// may reach it.
func (cfg hubConfig) bankGuard(g bankguard.Config, code string) bankguard.Config {
	switch {
	case len(cfg.LiveBanks) == 0:
	case slices.Contains(cfg.LiveBanks, code):
		g.Env = obx.EnvLive
	default:
		g.Env = obx.EnvSandbox
	}
	return g
}

// hub is the assembled system: database, banks, OAuth server and HTTP handler.
type hub struct {
	db        *sqlstore.DB
	banks     *bankguard.Directory
	sims      map[string]*banksim.Bank
	oauth     *oauth.Server
	transfers *obx.Transfers
	products  *obx.Products
	index     *productindex.Index
	admission *obx.Admissions
	calls     *sqlstore.Calls // nil unless cfg.RecordCalls
	handler   http.Handler

	cfg        hubConfig
	guard      bankguard.Config
	httpClient *http.Client
	simsMu     sync.Mutex // guards sims while the registry adds banks

	stop context.CancelFunc // stops the background jobs
	jobs sync.WaitGroup     // the background jobs
}

// purgeEvery is how often expired tokens and consent flows are deleted.
const purgeEvery = 10 * time.Minute

// recoverEvery is how often a replica looks for transfers to recover.
const recoverEvery = time.Second

// tidyEvery is how often a replica vacuums the list of unfinished
// transfers: at 3,000 transfers a second, 15,000 dead rows, under a
// megabyte.
const tidyEvery = 5 * time.Second

// productPullEvery is how often the hub pulls each bank's product data;
// catalogs are conditional requests, so an unchanged one costs a 304.
// productRefreshEvery is how often a replica loads versions that another
// replica stored (a bank's push lands on one replica only).
const (
	productPullEvery    = time.Minute
	productRefreshEvery = 5 * time.Second
)

// replicaID names this process in transfer leases.
func replicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// openHub connects, migrates, opens the banks and builds the HTTP handler.
func openHub(ctx context.Context, cfg hubConfig) (_ *hub, err error) {
	h := &hub{sims: map[string]*banksim.Bank{}}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.db, err = sqlstore.Open(ctx, cfg.DSN); err != nil {
		return nil, err
	}
	applied, err := h.db.Migrate(ctx, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		cfg.Logger.Info("database migrated", "engine", h.db.Engine(), "applied", len(applied))
	}

	metrics := obxhttp.NewMetrics(func() map[string]bool {
		up := map[string]bool{}
		for _, b := range h.banks.Banks() {
			g, _ := h.banks.Guarded(b.Code())
			up[b.Code()] = !g.Open()
		}
		return up
	})
	guard := bankguard.Config{
		Timeout: cfg.BankTimeout,
		Observe: func(bank, op string, d time.Duration, err error) {
			metrics.ObserveBankCall(bank, op, d, callResult(err))
		},
	}
	h.banks = bankguard.New(guard)
	h.cfg, h.guard = cfg, guard
	// One client for every bank adapter: connections are pooled per host, so
	// a slow bank holds only its own. The default of two idle connections per
	// host would make every busy bank open new TCP connections constantly.
	httpClient := &http.Client{
		Timeout: cfg.BankTimeout + time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
	}
	h.httpClient = httpClient
	pushTokens := map[string]string{} // banks that may push product data
	for _, b := range cfg.Banks {
		if b.Token != "" {
			pushTokens[b.Code] = b.Token
		}
		if b.URL != "" {
			c, err := bankhttp.NewClient(bankhttp.Config{
				Code: b.Code, Name: b.Name, BaseURL: b.URL, Token: b.Token, HTTPClient: httpClient,
			})
			if err != nil {
				return nil, fmt.Errorf("bank %s: %w", b.Code, err)
			}
			h.banks.Add(cfg.bankGuard(guard, b.Code), c)
			continue
		}
		sim, err := banksim.Open(ctx, banksim.Config{
			Code: b.Code, Name: b.Name, Seed: cfg.Seed, Logger: cfg.Logger,
			DSN: filepath.Join(cfg.SimDir, "bank-"+b.Code+".db"),
		})
		if err != nil {
			return nil, fmt.Errorf("simulated bank %s: %w", b.Code, err)
		}
		h.sims[b.Code] = sim
		h.banks.Add(cfg.bankGuard(guard, b.Code), sim)
	}

	if err := h.syncBanks(ctx); err != nil {
		return nil, err
	}

	// Product data: load what is stored, then pull every bank once before
	// serving, so a fresh hub answers product queries at once.
	h.index = productindex.New()
	h.products = &obx.Products{Store: h.db, Index: h.index, Logger: cfg.Logger}
	if err := h.products.Refresh(ctx); err != nil {
		return nil, err
	}
	h.products.PullAll(ctx, h.catalogSources())

	secret, err := h.db.Secret(ctx, "oauth-hmac", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	h.oauth, err = oauth.New(oauth.Config{
		Participants: h.db, Accounts: h.db, Tokens: h.db, Flows: h.db, Banks: h.banks,
		Secret: secret, Sandbox: cfg.Sandbox, AccessTTL: cfg.AccessTTL, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}

	h.transfers = &obx.Transfers{
		Store: h.db, Contracts: h.db, Accounts: h.db, Banks: h.banks, Now: time.Now, Logger: cfg.Logger,
		Owner: replicaID(),
	}
	srv := &obxhttp.Server{
		Service:   &obx.Service{Accounts: h.db, Banks: h.banks, Now: time.Now},
		Transfers: h.transfers,
		Tokens:    h.oauth,
		Mounts:    []obxhttp.Mounter{h.oauth},
		Ready:     func(ctx context.Context) error { return h.db.SQL().PingContext(ctx) },
		Logger:    cfg.Logger,
		Metrics:   metrics,

		Products:       h.index,
		ProductHistory: h.db,
	}
	srv.Mounts = append(srv.Mounts, &bankhttp.PushReceiver{Products: h.products, Tokens: pushTokens, Logger: cfg.Logger})
	srv.Checklist = h.db
	webKey, err := h.db.Secret(ctx, "web-key", func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	h.admission = &obx.Admissions{Store: h.db, Banks: h.banks, Registry: h.db, Now: time.Now,
		NewCredentials: oauth.NewClientCredentials, HashSecret: oauth.HashSecret, NewUseCode: newUseCode}
	portal := &web.Server{Admissions: h.admission, Users: h.db, Audit: h.db, Queues: h.db, Docs: h.db,
		Banks: h.banks, Logger: cfg.Logger, Key: webKey,
		Settlements: &obx.Settlements{Store: &sqlstore.Cycles{DB: h.db, Cutoff: cfg.Settle.Cutoff}, Now: time.Now}, SecureCookies: cfg.Secure, BaseURL: cfg.BaseURL, Mailer: cfg.Mailer}
	if cfg.RecordCalls {
		h.calls = sqlstore.NewCalls(h.db, cfg.Logger)
		srv.Calls, portal.Calls = h.calls, h.calls
	}
	srv.Mounts = append(srv.Mounts, portal)
	h.db.Cutoff = cfg.Settle.Cutoff // movements are booked into the business day the cut-off gives
	if cfg.Sandbox {
		sb := &obxhttp.Sandbox{Faults: map[string]http.Handler{}}
		for code, sim := range h.sims {
			sb.Faults[code] = bankhttp.NewServer(sim, sim, cfg.Logger)
		}
		srv.Mounts = append(srv.Mounts, sb)
	}
	h.handler = srv.Handler()

	jobCtx, stop := context.WithCancel(context.Background())
	h.stop = stop
	// Every replica recovers unfinished transfers; leases in the database keep
	// two replicas off one transfer.
	h.every(jobCtx, recoverEvery, func(ctx context.Context) {
		if n, err := h.transfers.Recover(ctx, 16); err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("transfer recovery", "err", err)
		} else if n > 0 {
			cfg.Logger.Info("transfers recovered", "count", n)
		}
	})
	// Every replica vacuums the list of unfinished transfers, which churns
	// at the rate of transfers; vacuums from several replicas just queue.
	h.every(jobCtx, tidyEvery, func(ctx context.Context) {
		if err := h.db.TidyUnfinished(ctx); err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("tidy unfinished transfers", "err", err)
		}
	})
	// Every replica pulls product data (publication is idempotent by content,
	// so replicas pulling at once store each version once) and loads what
	// others stored.
	h.jobs.Add(1)
	go func() {
		defer h.jobs.Done()
		pull := time.NewTicker(productPullEvery)
		defer pull.Stop()
		refresh := time.NewTicker(productRefreshEvery)
		defer refresh.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-pull.C:
				h.products.PullAll(jobCtx, h.catalogSources())
			case <-refresh.C:
				if err := h.products.Refresh(jobCtx); err != nil && jobCtx.Err() == nil {
					cfg.Logger.Warn("product index refresh", "err", err)
				}
			}
		}
	}()
	// Every replica follows the bank registry, so a bank the console adds
	// or a maintenance window it sets reaches all of them within bankSyncEvery.
	h.jobs.Add(1)
	go func() {
		defer h.jobs.Done()
		t := time.NewTicker(bankSyncEvery)
		defer t.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
			}
			if err := h.syncBanks(jobCtx); err != nil && jobCtx.Err() == nil {
				cfg.Logger.Warn("bank registry", "err", err)
			}
		}
	}()
	// Every replica purges; the deletes are idempotent, so they need no
	// coordination.
	h.every(jobCtx, purgeEvery, func(ctx context.Context) {
		if err := h.oauth.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("purge expired tokens and flows", "err", err)
		}
		if err := h.db.PurgeWebState(ctx, time.Now(), time.Hour); err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("purge sessions and sign-in failures", "err", err)
		}
		if h.calls != nil {
			if err := h.calls.PurgeCalls(ctx, time.Now()); err != nil && ctx.Err() == nil {
				cfg.Logger.Warn("purge api calls", "err", err)
			}
		}
	})
	return h, nil
}

// every runs fn at once and then every d, on a goroutine of h's jobs, until
// ctx ends.
func (h *hub) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	h.jobs.Add(1)
	go func() {
		defer h.jobs.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// bankSyncEvery is how often a replica reloads the bank registry.
const bankSyncEvery = 10 * time.Second

// syncBanks connects to every bank registered in the console that this
// replica does not know yet, and applies every bank's maintenance windows.
// A bank that cannot be opened is logged and tried again next time.
func (h *hub) syncBanks(ctx context.Context) error {
	regs, err := h.db.RegisteredBanks(ctx)
	if err != nil {
		return err
	}
	for _, b := range regs {
		if _, err := h.banks.Bank(b.Code); err == nil {
			continue
		}
		g := h.guard
		g.Env = b.Env
		if b.URL != "" {
			c, err := bankhttp.NewClient(bankhttp.Config{Code: b.Code, Name: b.Name, BaseURL: b.URL,
				Token: h.cfg.bankToken(), HTTPClient: h.httpClient})
			if err != nil {
				h.cfg.Logger.Warn("registered bank", "bank_code", b.Code, "err", err)
				continue
			}
			h.banks.Add(g, c)
		} else {
			sim, err := banksim.Open(ctx, banksim.Config{Code: b.Code, Name: b.Name, Seed: h.cfg.Seed, Logger: h.cfg.Logger,
				DSN: filepath.Join(h.cfg.SimDir, "bank-"+b.Code+".db")})
			if err != nil {
				h.cfg.Logger.Warn("registered bank", "bank_code", b.Code, "err", err)
				continue
			}
			h.simsMu.Lock()
			h.sims[b.Code] = sim
			h.simsMu.Unlock()
			h.banks.Add(g, sim)
		}
		h.cfg.Logger.Info("registered bank connected", "bank_code", b.Code)
	}
	ws, err := h.db.Maintenance(ctx)
	if err != nil {
		return err
	}
	for _, b := range h.banks.Banks() {
		if g, err := h.banks.Guarded(b.Code()); err == nil {
			g.SetMaintenance(ws[b.Code()])
		}
	}
	return nil
}

// catalogSources returns where each connected bank's product data is pulled
// from: every bank, configured or added from the console, whose connection
// publishes a catalog.
func (h *hub) catalogSources() map[string]obx.CatalogSource {
	out := map[string]obx.CatalogSource{}
	for _, b := range h.banks.Banks() {
		g, err := h.banks.Guarded(b.Code())
		if err != nil {
			continue
		}
		if c, ok := g.Unwrap().(obx.CatalogSource); ok {
			out[b.Code()] = c
		}
	}
	return out
}

// bankToken is the token presented to bank adapters: the one of the
// configured HTTP banks, which share it.
func (cfg hubConfig) bankToken() string {
	for _, b := range cfg.Banks {
		if b.Token != "" {
			return b.Token
		}
	}
	return ""
}

// newUseCode returns a random client_use_code: "T" and nine digits.
func newUseCode() string {
	var b [8]byte
	rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:]) % 1_000_000_000
	return fmt.Sprintf("T%09d", n)
}

// callResult names how a bank call ended, for metrics.
func callResult(err error) string {
	if err == nil {
		return "ok"
	}
	var be *obx.BankError
	if errors.As(err, &be) {
		return "refused"
	}
	return obx.ErrorCode(err)
}

// Close stops the background jobs and releases the database and the
// simulated banks.
func (h *hub) Close() {
	if h.stop != nil {
		h.stop()
		h.jobs.Wait()
	}
	if h.calls != nil {
		h.calls.Close()
	}
	h.simsMu.Lock()
	for _, s := range h.sims {
		s.Close()
	}
	h.simsMu.Unlock()
	if h.db != nil {
		h.db.Close()
	}
}
