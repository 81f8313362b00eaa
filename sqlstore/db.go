package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/obxhub/obx"
)

// Migrations holds the embedded schema migrations, applied by Migrate.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// Engines.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DB is a connection pool to one hub database, with the engine it speaks.
type DB struct {
	db     *sql.DB
	q      *prepared // db through cached prepared statements: use for queries outside transactions
	engine string

	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Cutoff ends each settlement cycle's business day (zero: KST midnight).
	// Every replica must use the same value; set it before use.
	Cutoff Cutoff

	saves   *group[saveArg]    // SaveTransfer's group commit
	accepts *group[*acceptArg] // AcceptTransfer's

	// Coalesced point reads, on PostgreSQL only (nil on SQLite, which runs
	// in process: a read costs no round trip there).
	tokenReads    *lookup[tokenKey, *tokenWithClient]
	accountReads  *lookup[accountKey, *obx.Account]
	contractReads *lookup[contractKey, *contractRow]
	payerReads    *lookup[payerKey, *payerRow]
	// tokenPayerReads reads a token with a withdrawal's payer (obx.PayerHint).
	tokenPayerReads *lookup[tokenPayerKey, *tokenAndPayer]
	cycles          sync.Map // settlement cycle days known to have a row
}

// PostgresPoolSize is the most connections a hub opens to PostgreSQL, and
// keeps open once it has; a server's max_connections must leave room for
// every replica's.
const PostgresPoolSize = 32

// Open connects to the database named by dsn: "postgres://…" or "postgresql://…"
// for PostgreSQL, "sqlite://path" or "sqlite:path" for SQLite (the file is
// created if missing). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	engine, driver, source, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	sqldb, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", engine, err)
	}
	if engine == SQLite {
		// Transactions take the write lock at BEGIN (_txlock=immediate), so
		// SQLite has one writer at a time and read-then-write transactions
		// cannot deadlock on lock upgrades; plain reads run concurrently (WAL).
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8)
	} else {
		// Keep as many idle connections as may be open: database/sql keeps
		// two by default, and under load nearly every request then opened a
		// new PostgreSQL session (found by obx bench transfers: 139 → 464
		// withdrawals/s).
		sqldb.SetMaxOpenConns(PostgresPoolSize)
		sqldb.SetMaxIdleConns(PostgresPoolSize)
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to %s database: %w", engine, err)
	}
	db := &DB{db: sqldb, q: newPrepared(sqldb), engine: engine, Now: time.Now}
	db.saves = newGroup(maxSaveBatch, db.runSaves)
	db.accepts = newGroup(maxAcceptBatch, db.runAccepts)
	if engine == Postgres {
		db.tokenReads, db.accountReads, db.contractReads = newTokenReads(db), newAccountReads(db), newContractReads(db)
		db.payerReads, db.tokenPayerReads = newPayerReads(db), newTokenPayerReads(db)
	}
	return db, nil
}

func parseDSN(dsn string) (engine, driver, source string, err error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, "pgx", dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return "", "", "", obx.Errorf(obx.EINVALID, "sqlite database URL %q has no path", dsn)
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return SQLite, "sqlite", "file:" + path + "?" + q.Encode(), nil
	}
	return "", "", "", obx.Errorf(obx.EINVALID, "database URL %q: want postgres://… or sqlite://path", dsn)
}

// Engine returns Postgres or SQLite.
func (db *DB) Engine() string { return db.engine }

// SQL returns the underlying pool, for health checks.
func (db *DB) SQL() *sql.DB { return db.db }

// Close closes the pool.
func (db *DB) Close() error {
	db.saves.close()
	db.accepts.close()
	if db.engine == Postgres {
		db.tokenReads.close()
		db.accountReads.close()
		db.contractReads.close()
		db.payerReads.close()
		db.tokenPayerReads.close()
	}
	db.q.Close()
	return db.db.Close()
}

// Migrate applies every embedded migration not yet applied and returns the
// versions it applied, in order.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) ([]int64, error) {
	p, err := db.migrations()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	var applied []int64
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
			if logger != nil {
				logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
			}
		}
	}
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// migrations returns the goose provider of the embedded SQL migrations and
// the Go ones, for db's engine.
func (db *DB) migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectPostgres
	if db.engine == SQLite {
		dialect = goose.DialectSQLite3
	}
	return goose.NewProvider(dialect, db.db, fsys, goose.WithGoMigrations(db.goMigrations()...))
}

// goMigrations are the migrations that differ by engine, numbered among
// the SQL files.
func (db *DB) goMigrations() []*goose.Migration {
	postgresOnly := func(query string) *goose.GoFunc {
		return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			if db.engine != Postgres {
				return nil
			}
			_, err := tx.ExecContext(ctx, query)
			return err
		}}
	}
	return []*goose.Migration{
		// A fill factor leaves room on each page of transfers for the new
		// versions of its rows: a transfer is saved within milliseconds of
		// being inserted, and with no index reading a column a save changes
		// (migration 8), the save is then a HOT update on the row's own page. Pages are pruned of the old versions as they fill,
		// without vacuum. SQLite updates in place and has no such setting.
		goose.NewGoMigration(9, postgresOnly(postgresMigrations[9][0]), postgresOnly(postgresMigrations[9][1])),
	}
}

// postgresMigrations are the Go migrations' statements by version, up and
// down, run on PostgreSQL only.
var postgresMigrations = map[int64][2]string{
	9: {`ALTER TABLE transfers SET (fillfactor = 60)`, `ALTER TABLE transfers RESET (fillfactor)`},
}

// GoMigrations describes the migrations written in Go, for whoever caches
// migrated schemas (internal/dbtest) and must tell one version from another
// as it does by the SQL files' contents.
func GoMigrations() string {
	return fmt.Sprint(postgresMigrations)
}

// Version returns the current schema version.
func (db *DB) Version(ctx context.Context) (int64, error) {
	p, err := db.migrations()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// transact runs fn in a transaction, committing if fn returns nil. It retries
// serialization failures and deadlocks, which PostgreSQL reports under
// contention and which are safe to retry because the whole transaction reruns.
func (db *DB) transact(ctx context.Context, fn func(*sql.Tx) error) error {
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		err = db.transactOnce(ctx, fn)
		if !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) transactOnce(ctx context.Context, fn func(*sql.Tx) error) error {
	// The stores' locking (conditional updates that re-check their rows under
	// the lock) is written for READ COMMITTED; say so rather than inherit
	// whatever default the server was given. SQLite serializes anyway.
	var opts *sql.TxOptions
	if db.engine == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var re *retryError
	if errors.As(err, &re) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_BUSY
	}
	return false
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// notFound converts sql.ErrNoRows into an ENOTFOUND *obx.Error with message.
func notFound(err error, message string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return obx.WrapError(obx.ENOTFOUND, message, err)
	}
	return err
}
