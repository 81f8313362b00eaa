// Package dbtest gives each test its own fresh, migrated hub database on every
// engine the machine has: SQLite always, PostgreSQL when reachable.
//
// PostgreSQL databases are created with CREATE DATABASE … TEMPLATE from a
// template migrated once per schema version, so a test's database costs
// milliseconds. The server is found through OBX_TEST_DATABASE_URL (default: the
// local server on 127.0.0.1:5432, database test). When it is unreachable the
// PostgreSQL cases skip with a message, except when CI=true, where they fail:
// a green CI must never mean "skipped".
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/obxhub/obx/sqlstore"
)

// DefaultURL is the PostgreSQL server tried when OBX_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engine is one database engine tests can run on.
type Engine struct {
	Name string // sqlstore.SQLite or sqlstore.Postgres
	// NewDSN returns the URL of a fresh migrated database, dropped at test end.
	NewDSN func(t testing.TB) string
}

// Engines returns SQLite and PostgreSQL. Use with ForEach.
func Engines() []Engine {
	return []Engine{
		{Name: sqlstore.SQLite, NewDSN: SQLiteDSN},
		{Name: sqlstore.Postgres, NewDSN: PostgresDSN},
	}
}

// ForEach runs fn as a subtest on each engine.
func ForEach(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// Open returns a fresh migrated database of engine e, closed at test end.
func Open(t testing.TB, e Engine) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), e.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// SQLiteDSN returns the URL of a fresh migrated SQLite database in a temp dir.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "obx.db")
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return dsn
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// PostgresDSN returns the URL of a fresh database cloned from the migrated
// template, dropped at test end. It skips the test when no server is
// reachable, or fails it when CI=true.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("OBX_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required when CI=true: %v", redact(base), err)
		}
		t.Skipf("skipping PostgreSQL test: no server at %s (set OBX_TEST_DATABASE_URL): %v", redact(base), err)
	}
	defer admin.Close()

	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(base, admin) })
	if templateErr != nil {
		t.Fatalf("PostgreSQL template: %v", templateErr)
	}
	name := "obx_t_" + randomHex(8)
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + templateName); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// ensureTemplate creates and migrates the template for the current migrations,
// once across all test processes (guarded by an advisory lock).
func ensureTemplate(base string, admin *sql.DB) (string, error) {
	ctx := context.Background()
	name := "obx_tmpl_" + schemaHash()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7007001)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7007001)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	db, err := sqlstore.Open(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	_, err = db.Migrate(ctx, nil)
	db.Close()
	if err != nil {
		return "", err
	}
	// Rename only once fully migrated, so a crashed build is never used.
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// schemaHash names the template after the migrations' content, so a changed
// migration gets a new template.
func schemaHash() string {
	h := sha256.New()
	fs.WalkDir(sqlstore.Migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(sqlstore.Migrations, path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	h.Write([]byte(sqlstore.GoMigrations()))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
