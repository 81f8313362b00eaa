package banksim

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/obxhub/obx"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Config configures one simulated bank.
type Config struct {
	// Code is the bank's three-digit standard code (bank_code_std), e.g. "088".
	Code string
	// Name is the display name; if empty, the DemoBanks name for Code is used.
	Name string
	// DSN is the path of the bank's SQLite database file, created if missing
	// (a "file:" URI is accepted too). ":memory:" keeps the ledger in memory
	// on a single connection, for tests; it is lost on Close.
	DSN string
	// Seed determines the demo data and the random draws of fault injection.
	Seed int64
	// Now is the bank's clock; time.Now when nil. Seeded histories end at the
	// time Now returns during the first Open.
	Now func() time.Time
	// Logger receives operational logs; discarded when nil.
	Logger *slog.Logger
	// CommitDelay is how long the ledger waits for more operations before it
	// commits a small group, to share one fsync among them (see commitLoop).
	// 0 means DefaultCommitDelay for a ledger on disk and none in memory,
	// where a commit writes nothing to disk; a negative value means none.
	CommitDelay time.Duration
}

// DefaultCommitDelay is Config.CommitDelay's default for a ledger on disk.
// It raised obx bench transfers' withdrawals per second by about a sixth
// and cut its p99 latency on the 2-core development VM, where two of the
// three simulated banks otherwise committed 1.3 operations per fsync; 2 ms
// measured no better (docs/bench.md).
const DefaultCommitDelay = time.Millisecond

// Bank is one simulated bank. It is safe for concurrent use.
type Bank struct {
	code, name string
	dataSeed   int64 // Config.Seed: the demo data and the product catalog follow from it
	now        func() time.Time
	logger     *slog.Logger

	wdb *sql.DB // one connection, BEGIN IMMEDIATE: serializes writes
	rdb *sql.DB // read-only connections; the same as wdb for ":memory:"

	pageAsc, pageDesc *sql.Stmt            // keyset history pages, prepared on rdb
	hot               map[string]*sql.Stmt // an operation's statements, prepared on wdb
	lastTransaction   *sql.Stmt            // the largest transactions id, on wdb
	// insertTransactions[n-1] and insertOperations[n-1] insert a group's n
	// ledger rows, on wdb (see groupTx).
	insertTransactions, insertOperations []*sql.Stmt
	prepares                             []*sql.Stmt // every statement prepared on wdb, to close

	closeOnce sync.Once
	closed    chan struct{} // closed by Close; releases calls blocked by faults

	writes        chan *groupWrite // operations for the committer (groupcommit.go)
	committerDone chan struct{}
	commitDelay   time.Duration // Config.CommitDelay, resolved; 0: none
	groupCommits  atomic.Int64  // commits by the committer, for tests
	delayedGroups atomic.Int64  // groups the committer waited for, for tests

	mu     sync.Mutex // guards the fields below
	faults Faults
	rng    *rand.Rand // fault draws, seeded from Config.Seed
}

var _ obx.Bank = (*Bank)(nil)

//go:embed schema.sql
var schema string

// faultStream separates the fault draws from other uses of the seed.
const faultStream = 0x6f62782d66617574

// kst is the bank's business time zone: business dates (bank_tran_day) and
// seeded histories follow the Korean calendar. A fixed zone needs no tzdata.
var kst = time.FixedZone("KST", 9*60*60)

// Open opens (creating if needed) the bank's ledger at cfg.DSN, and seeds a new
// ledger with the demo data for cfg.Code. It returns EINVALID for a bad
// configuration or a database that belongs to another bank.
func Open(ctx context.Context, cfg Config) (*Bank, error) {
	if !isDigits(cfg.Code, 3) {
		return nil, obx.Errorf(obx.EINVALID, "Bank code %q must be three digits.", cfg.Code)
	}
	if cfg.DSN == "" {
		return nil, obx.Errorf(obx.EINVALID, "Bank %s needs a database path.", cfg.Code)
	}
	b := &Bank{
		code:          cfg.Code,
		name:          cfg.Name,
		dataSeed:      cfg.Seed,
		now:           cfg.Now,
		logger:        cfg.Logger,
		closed:        make(chan struct{}),
		writes:        make(chan *groupWrite),
		committerDone: make(chan struct{}),
		commitDelay:   cfg.CommitDelay,
		rng:           rand.New(rand.NewPCG(uint64(cfg.Seed), faultStream)),
	}
	if b.name == "" {
		b.name = DemoBankName(cfg.Code)
	}
	if b.name == "" {
		b.name = "은행 " + cfg.Code
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.logger == nil {
		b.logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case b.commitDelay < 0:
		b.commitDelay = 0
	case b.commitDelay == 0 && cfg.DSN != ":memory:":
		b.commitDelay = DefaultCommitDelay
	}
	b.logger = b.logger.With("bank_code", b.code)

	if err := b.openDB(cfg.DSN); err != nil {
		return nil, err
	}
	go b.commitLoop()
	if err := b.init(ctx, cfg.Seed); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openDB opens the writer and reader pools. WAL lets readers run beside the
// single writer; busy_timeout covers other processes opening the same file.
// synchronous=FULL makes every commit survive a power cut, not only a crash:
// the hub settles lost responses by asking the bank, so the bank must never
// forget an operation it has answered.
func (b *Bank) openDB(dsn string) error {
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	if dsn == ":memory:" {
		// Each connection to ":memory:" is a separate database, so all access
		// shares one connection.
		db, err := sql.Open("sqlite", "file::memory:?"+pragmas)
		if err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1) // the connection is the database: never let it go
		b.wdb, b.rdb = db, db
		return nil
	}
	name := dsn
	if !strings.HasPrefix(name, "file:") {
		name = "file:" + name
	}
	sep := "?"
	if strings.Contains(name, "?") {
		sep = "&"
	}
	w, err := sql.Open("sqlite", name+sep+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", name+sep+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	b.wdb, b.rdb = w, r
	return nil
}

// init creates the schema, seeds a new ledger and prepares the hot statements.
func (b *Bank) init(ctx context.Context, seed int64) error {
	err := b.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'bank_code'`).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return b.seed(ctx, tx, seed)
		case err != nil:
			return fmt.Errorf("read meta: %w", err)
		case owner != b.code:
			return obx.Errorf(obx.EINVALID, "The database belongs to bank %s, not %s.", owner, b.code)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := b.prepareHot(ctx); err != nil {
		return err
	}
	if b.pageAsc, err = b.rdb.PrepareContext(ctx, pageQuery(true)); err != nil {
		return fmt.Errorf("prepare page query: %w", err)
	}
	if b.pageDesc, err = b.rdb.PrepareContext(ctx, pageQuery(false)); err != nil {
		return fmt.Errorf("prepare page query: %w", err)
	}
	return nil
}

// Close releases the database and any call that a fault holds blocked.
func (b *Bank) Close() error {
	var err error
	b.closeOnce.Do(func() {
		close(b.closed)
		<-b.committerDone
		for _, s := range []*sql.Stmt{b.pageAsc, b.pageDesc} {
			if s != nil {
				s.Close()
			}
		}
		for _, s := range b.prepares {
			s.Close()
		}
		err = b.wdb.Close()
		if b.rdb != b.wdb {
			err = errors.Join(err, b.rdb.Close())
		}
	})
	return err
}

// Code returns the bank's standard code.
func (b *Bank) Code() string { return b.code }

// Name returns the bank's display name.
func (b *Bank) Name() string { return b.name }

// write runs fn in one write transaction: BEGIN IMMEDIATE on the single writer
// connection, so fn's reads and writes are never interleaved with another's.
func (b *Bank) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := b.wdb.BeginTx(ctx, nil)
	if err != nil {
		return b.dbError(ctx, "begin", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return b.dbError(ctx, "write", err)
	}
	if err := tx.Commit(); err != nil {
		return b.dbError(ctx, "commit", err)
	}
	return nil
}

// read runs fn in one read-only transaction, a consistent snapshot under WAL.
func (b *Bank) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := b.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return b.dbError(ctx, "begin", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return b.dbError(ctx, "read", err)
	}
	return nil
}

// dbError classifies a failed database call: domain errors pass through, a
// call cut short by its context is ETIMEOUT (the caller gave up), the rest is
// wrapped for operators.
func (b *Bank) dbError(ctx context.Context, what string, err error) error {
	var (
		e  *obx.Error
		be *obx.BankError
	)
	switch {
	case errors.As(err, &e), errors.As(err, &be):
		return err
	case ctx.Err() != nil:
		return obx.WrapError(obx.ETIMEOUT, "The bank did not answer in time.", ctx.Err())
	}
	return fmt.Errorf("bank %s: %s: %w", b.code, what, err)
}

// refuse returns the bank's refusal with a standard response code.
func (b *Bank) refuse(rspCode string) *obx.BankError {
	return &obx.BankError{BankCode: b.code, RspCode: rspCode, Message: rspMessages[rspCode]}
}

// rspMessages are the bank's messages for the codes it returns (KFTC 별첨).
var rspMessages = map[string]string{
	obx.BankRspOK:                  "정상",
	obx.BankRspNoAccount:           "해당계좌 없음",
	obx.BankRspClosedAccount:       "해약 계좌",
	obx.BankRspInsufficientBalance: "예금잔액 부족",
	obx.BankRspHolderMismatch:      "예금주명 불일치",
}

// tranDay is the bank's business date for t: the KST calendar date.
func tranDay(t time.Time) string { return t.In(kst).Format("20060102") }

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
