package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/obxhub/obx/bankhttp"
	"github.com/obxhub/obx/banksim"
)

func runBanksim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("banksim", "Runs one simulated bank as its own process, serving the bank adapter protocol\n(docs/bank-protocol.md) so that a hub can reach it over HTTP. Its ledger lives\nin SQLite under --data and is seeded with the demo customers on first start.", stderr)
	addr := fs.String("addr", "127.0.0.1:9088", "listen address (port 0 picks a free port)")
	code := fs.String("bank-code", "088", "the bank's standard code (bank_code_std)")
	name := fs.String("bank-name", "", "the bank's name (default: the demo name for the code)")
	seed := fs.Int64("seed", 1, "seed of the deterministic demo data")
	data := fs.String("data", "./obx-data", "directory for the bank's ledger database")
	token := fs.String("token", "", "bearer token the hub must present (empty: no authentication)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	commitDelay := fs.Duration("commit-delay", 0, "how long the ledger waits to gather a small group of operations into one commit (0: the default, 1ms; negative: none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logFormat)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = banksim.DemoBankName(*code)
	}
	if *name == "" {
		return fmt.Errorf("--bank-name is required for bank code %s (not a demo bank)", *code)
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	bank, err := banksim.Open(ctx, banksim.Config{
		Code: *code, Name: *name, Seed: *seed, Logger: logger,
		DSN: filepath.Join(*data, "bank-"+*code+".db"), CommitDelay: *commitDelay,
	})
	if err != nil {
		return err
	}
	defer bank.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	handler := bankhttp.NewServer(bank, bank, logger)
	handler.Token = *token
	srv := newHTTPServer(handler)
	fmt.Fprintf(stdout, "bank %s %s listening on http://%s\n", *code, *name, ln.Addr())
	return serveUntilDone(ctx, srv, ln, logger)
}
