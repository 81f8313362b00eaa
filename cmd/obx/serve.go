package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/smtpmail"
	"github.com/obxhub/obx/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Runs the hub in production mode. The database is migrated at start-up. Banks are\nconfigured with --banks: each is simulated in process (\"sim\") or reached over\nthe bank adapter protocol at a URL. Sandbox tools exist only with --sandbox.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	dsn := fs.String("db", "", "database URL: postgres://… or sqlite://path (required)")
	banksFlag := fs.String("banks", "", `comma-separated banks, each CODE=sim or CODE=URL, e.g. "088=http://10.0.0.5:9088,097=sim"`)
	bankToken := fs.String("bank-token", "", "bearer token presented to bank adapters")
	bankTimeout := fs.Duration("bank-timeout", 5*time.Second, "timeout of each call to a bank")
	simDir := fs.String("sim-dir", "./obx-data", "directory for the ledgers of in-process simulated banks")
	seed := fs.Int64("seed", 1, "seed of simulated banks' demo data")
	sandbox := fs.Bool("sandbox", false, "enable sandbox-only tools (headless consent, fault injection)")
	accessTTL := fs.Duration("access-ttl", 90*24*time.Hour, "access token lifetime; refresh tokens live 10 days longer")
	logFormat := fs.String("log-format", "json", "log format: text or json")
	cutoff := fs.String("settlement-cutoff", "24:00", "KST time HH:MM at which a business day's settlement cycle ends")
	liveBanks := fs.String("live-banks", "", "comma-separated codes of live bank connections: only live credentials reach them, only sandbox credentials the others")
	smtpAddr := fs.String("smtp-addr", "", "host:port of the mail relay for password-reset links; empty: links go to the log")
	smtpFrom := fs.String("smtp-from", "obx@localhost", "sender of the hub's mail")
	smtpUser := fs.String("smtp-user", "", "mail relay user (PLAIN authentication over TLS); empty: none")
	smtpPassword := fs.String("smtp-password", "", "mail relay password (prefer $OBX_SMTP_PASSWORD)")
	baseURL := fs.String("base-url", "", "the hub's public URL, e.g. https://obx.example; https makes session cookies Secure")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		return fmt.Errorf("--db is required")
	}
	settle, err := parseSettleConfig(*cutoff)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logFormat)
	if err != nil {
		return err
	}
	banks, err := parseBanks(*banksFlag, *bankToken)
	if err != nil {
		return err
	}
	var mailer web.Mailer
	if *smtpAddr != "" {
		mailer = &smtpmail.Mailer{Addr: *smtpAddr, From: *smtpFrom, User: *smtpUser, Password: *smtpPassword}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	h, err := openHub(ctx, hubConfig{
		DSN: *dsn, Sandbox: *sandbox, Banks: banks, SimDir: *simDir, Seed: *seed,
		BankTimeout: *bankTimeout, AccessTTL: *accessTTL, Logger: logger, Settle: settle,
		BaseURL: strings.TrimRight(*baseURL, "/"), Secure: strings.HasPrefix(*baseURL, "https://"),
		RecordCalls: true, Mailer: mailer,
		LiveBanks: strings.FieldsFunc(*liveBanks, func(r rune) bool { return r == ',' || r == ' ' }),
	})
	if err != nil {
		return err
	}
	defer h.Close()
	srv := newHTTPServer(h.handler)
	fmt.Fprintf(stdout, "obx listening on http://%s\n", ln.Addr())
	logger.Info("obx serving", "addr", ln.Addr().String(), "engine", h.db.Engine(), "banks", len(banks), "sandbox", *sandbox)
	return serveUntilDone(ctx, srv, ln, logger)
}

// parseBanks reads --banks: "088=http://host:port,097=sim".
func parseBanks(s, token string) ([]bankSpec, error) {
	var out []bankSpec
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		code, target, ok := strings.Cut(item, "=")
		if !ok || len(code) != 3 || target == "" {
			return nil, fmt.Errorf("--banks: %q is not CODE=sim or CODE=URL", item)
		}
		if seen[code] {
			return nil, fmt.Errorf("--banks: bank %s given twice", code)
		}
		seen[code] = true
		name := banksim.DemoBankName(code)
		if name == "" {
			name = "은행 " + code
		}
		b := bankSpec{Code: code, Name: name, Token: token}
		switch {
		case target == "sim":
		case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
			b.URL = strings.TrimRight(target, "/")
		default:
			return nil, fmt.Errorf("--banks: bank %s: target must be sim or an http(s) URL", code)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--banks: at least one bank is required")
	}
	return out, nil
}
