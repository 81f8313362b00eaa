// Package banksim is a simulated bank: one participating bank with its own
// durable ledger in a private SQLite database, sandbox logins, demo customers
// with realistic histories, and run-time fault injection.
//
// A *Bank implements obx.Bank, so the hub uses it exactly as it uses a real
// bank reached through bankhttp. `obx demo` runs one Bank per demo bank in
// process; `obx banksim` serves one over the bank protocol of package bankhttp.
//
// # Ledger
//
// Every account's balance equals the sum of its signed transaction amounts, and
// each transaction's after_balance chains from the one before it. Debit and
// Credit change a balance and append the matching transaction row in one SQLite
// transaction. Writes go through a single connection opened with
// BEGIN IMMEDIATE, so they are serialized and never fail with SQLITE_BUSY
// inside the process; reads use a pool of read-only connections that WAL lets
// run beside the writer. Debits and credits arriving together share one
// commit, and so one fsync (synchronous=FULL: an answered operation survives
// a power cut); a ledger on disk waits up to Config.CommitDelay for a small
// group to grow before committing it.
//
// # Idempotency
//
// Debit and Credit are idempotent by the hub's operation id. The first call
// records its outcome, applied or rejected, in the operations table; a repeat
// with the same id returns that outcome and moves no money. Reusing an id for a
// different instruction (other kind, account or amount) is ECONFLICT.
//
// # Demo data
//
// DemoCustomers defines the same ten customers for every bank. Open seeds a new
// database with the accounts of those customers that the bank holds, each with
// about six months of history before Config.Now, and with the business accounts
// of the demo TSPs (DemoTSPAccounts). Everything follows from Config.Seed and
// the time of the first Open; reopening an existing database never reseeds it.
// Each customer signs in with the same login at every bank where they hold
// accounts: user01/pass01 … user10/pass10 (see DemoLogins).
//
// # Faults
//
// SetFaults makes the bank fail on purpose: added latency, transient errors,
// timeouts before or after a debit or credit is applied (a "lost response"),
// maintenance windows and outages. Status reports outages and maintenance but
// is itself never delayed or failed, so health checks see the bank's state.
package banksim
