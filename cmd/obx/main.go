// Command obx runs the obx open banking exchange.
//
//	obx demo      the whole hub in one process on SQLite, with simulated banks and demo data
//	obx serve     the hub in production mode on PostgreSQL or SQLite
//	obx migrate   apply the embedded schema migrations
//	obx banksim   one simulated bank as its own process, speaking the bank protocol
//	obx admin     create-user: a staff account of the operator console
//
// Every flag can also be set through an OBX_* environment variable
// (--bank-code ↔ OBX_BANK_CODE); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// The hub's live heap is small (tens of MB) and its garbage is per request,
// so the default of 100 collects very often under load: GC was about a fifth
// of the process's CPU in obx bench transfers, and 400 spends about 7% less
// CPU per withdrawal for a few hundred MB more heap at most.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "obx:", err)
		}
		os.Exit(2)
	}
}

const usage = `obx is an open banking exchange: one hub through which fintech apps reach
many banks' accounts through the KFTC Open Banking API v2.0.

Usage:

	obx <command> [flags]

Commands:

	demo      run the whole hub in one process on SQLite, with simulated banks and demo data
	serve     run the hub in production mode on PostgreSQL or SQLite
	migrate   apply the embedded schema migrations and report what was done
	banksim   run one simulated bank as its own process (the bank adapter protocol)
	subbusiness  register a TSP's sub-business directly (the console's approval is the normal way)
	settle    close a business day's settlement cycle and print the banks' net positions
	admin     the center's chores: "obx admin create-user" makes a console user
	bench     measure the hub under load: withdrawals against pgbench, product queries

Run "obx <command> --help" for a command's flags. Every flag also reads an
OBX_* environment variable, e.g. --db from OBX_DB.
`

// run is main without the process: it parses args and runs one command, so
// that tests can run the real binary's code in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "banksim":
		return runBanksim(ctx, args[1:], stdout, stderr)
	case "subbusiness":
		return runSubBusiness(ctx, args[1:], stdout, stderr)
	case "settle":
		return runSettle(ctx, args[1:], stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// newFlagSet returns a flag set whose usage text describes the command and
// names the environment variable of every flag.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: obx %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s\t%s%s [$%s]\n", f.Name, f.Usage, def, envName(f.Name))
		})
	}
	return fs
}

func envName(flagName string) string {
	return "OBX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then fills every flag not given on the command line
// from its OBX_* environment variable.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("$%s: %w", envName(f.Name), e)
			}
		}
	})
	return err
}
