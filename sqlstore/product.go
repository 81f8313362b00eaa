package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/obxhub/obx"
)

var _ obx.ProductStore = (*DB)(nil)

// SaveCatalog implements obx.ProductStore. The next version number is read
// and written in one transaction; two concurrent saves for one bank on
// PostgreSQL may both read the same newest version, and the loser's insert
// then violates the primary key and the transaction reruns, now seeing the
// winner (and, if the content is equal, storing nothing).
func (db *DB) SaveCatalog(ctx context.Context, c *obx.Catalog) (bool, error) {
	var saved bool
	err := db.transact(ctx, func(tx *sql.Tx) error {
		saved = false
		var version int64
		var digest string
		var last time.Time
		err := tx.QueryRowContext(ctx, `
			SELECT version, digest, published_at FROM product_catalogs
			WHERE bank_code = $1 ORDER BY version DESC LIMIT 1`, c.BankCode).
			Scan(&version, &digest, scanTime(&last))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("newest catalog of bank %s: %w", c.BankCode, err)
		}
		if err == nil && digest == c.Digest {
			c.Version = version
			return nil
		}
		// published_at never goes backwards per bank, whatever the replicas'
		// clocks say, so the version in service at time t is well defined.
		now := db.Now().UTC()
		if now.Before(last) {
			now = last
		}
		c.Version, c.PublishedAt = version+1, now
		body, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode catalog: %w", err)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO product_catalogs (bank_code, version, digest, published_at, body)
			VALUES ($1, $2, $3, $4, $5)`, c.BankCode, c.Version, c.Digest, db.ts(now), string(body))
		if isUniqueViolation(err) {
			return &retryError{err}
		}
		if err != nil {
			return fmt.Errorf("insert catalog of bank %s: %w", c.BankCode, err)
		}
		saved = true
		return nil
	})
	return saved, err
}

// Catalog implements obx.ProductStore.
func (db *DB) Catalog(ctx context.Context, bank string, at time.Time) (*obx.Catalog, error) {
	var body string
	var err error
	if at.IsZero() {
		err = db.q.QueryRowContext(ctx, `
			SELECT body FROM product_catalogs WHERE bank_code = $1 ORDER BY version DESC LIMIT 1`, bank).Scan(&body)
	} else {
		err = db.q.QueryRowContext(ctx, `
			SELECT body FROM product_catalogs WHERE bank_code = $1 AND published_at <= $2
			ORDER BY version DESC LIMIT 1`, bank, db.ts(at)).Scan(&body)
	}
	if err != nil {
		return nil, notFound(fmt.Errorf("catalog of bank %s: %w", bank, err), "The bank had published no product data at that time.")
	}
	var c obx.Catalog
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return nil, fmt.Errorf("decode catalog of bank %s: %w", bank, err)
	}
	return &c, nil
}

// CatalogVersions implements obx.ProductStore.
func (db *DB) CatalogVersions(ctx context.Context, bank string) ([]obx.CatalogVersion, error) {
	rows, err := db.q.QueryContext(ctx, `
		SELECT version, digest, published_at FROM product_catalogs WHERE bank_code = $1 ORDER BY version`, bank)
	if err != nil {
		return nil, fmt.Errorf("catalog versions of bank %s: %w", bank, err)
	}
	defer rows.Close()
	var out []obx.CatalogVersion
	for rows.Next() {
		v := obx.CatalogVersion{BankCode: bank}
		if err := rows.Scan(&v.Version, &v.Digest, scanTime(&v.PublishedAt)); err != nil {
			return nil, fmt.Errorf("catalog versions of bank %s: %w", bank, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SaveRates implements obx.ProductStore. The primary key (bank, quoted_at)
// makes a repeated board a no-op, also between replicas pulling at once.
func (db *DB) SaveRates(ctx context.Context, b *obx.RateBoard) (bool, error) {
	b.PublishedAt = db.Now().UTC()
	b.QuotedAt = b.QuotedAt.UTC()
	body, err := json.Marshal(b)
	if err != nil {
		return false, fmt.Errorf("encode rates: %w", err)
	}
	_, err = db.q.ExecContext(ctx, `
		INSERT INTO exchange_rate_boards (bank_code, quoted_at, published_at, body) VALUES ($1, $2, $3, $4)`,
		b.BankCode, db.ts(b.QuotedAt), db.ts(b.PublishedAt), string(body))
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert rates of bank %s: %w", b.BankCode, err)
	}
	return true, nil
}

// Rates implements obx.ProductStore.
func (db *DB) Rates(ctx context.Context, bank string, at time.Time) (*obx.RateBoard, error) {
	var body string
	var err error
	if at.IsZero() {
		err = db.q.QueryRowContext(ctx, `
			SELECT body FROM exchange_rate_boards WHERE bank_code = $1 ORDER BY quoted_at DESC LIMIT 1`, bank).Scan(&body)
	} else {
		err = db.q.QueryRowContext(ctx, `
			SELECT body FROM exchange_rate_boards WHERE bank_code = $1 AND quoted_at <= $2
			ORDER BY quoted_at DESC LIMIT 1`, bank, db.ts(at)).Scan(&body)
	}
	if err != nil {
		return nil, notFound(fmt.Errorf("rates of bank %s: %w", bank, err), "The bank had published no exchange rates at that time.")
	}
	var b obx.RateBoard
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("decode rates of bank %s: %w", bank, err)
	}
	return &b, nil
}

// ProductHeads implements obx.ProductStore.
func (db *DB) ProductHeads(ctx context.Context) ([]obx.ProductHead, error) {
	heads := map[string]*obx.ProductHead{}
	var order []string
	head := func(bank string) *obx.ProductHead {
		h, ok := heads[bank]
		if !ok {
			h = &obx.ProductHead{BankCode: bank}
			heads[bank] = h
			order = append(order, bank)
		}
		return h
	}
	rows, err := db.q.QueryContext(ctx, `SELECT bank_code, MAX(version) FROM product_catalogs GROUP BY bank_code ORDER BY bank_code`)
	if err != nil {
		return nil, fmt.Errorf("catalog heads: %w", err)
	}
	for rows.Next() {
		var bank string
		var v int64
		if err := rows.Scan(&bank, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalog heads: %w", err)
		}
		head(bank).Version = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog heads: %w", err)
	}
	// MAX over a timestamp column comes back as text from SQLite, so order
	// and take the first row per bank instead of aggregating.
	rows, err = db.q.QueryContext(ctx, `
		SELECT b.bank_code, b.quoted_at FROM exchange_rate_boards b
		WHERE b.quoted_at = (SELECT MAX(quoted_at) FROM exchange_rate_boards WHERE bank_code = b.bank_code)
		ORDER BY b.bank_code`)
	if err != nil {
		return nil, fmt.Errorf("rate heads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bank string
		var at time.Time
		if err := rows.Scan(&bank, scanTime(&at)); err != nil {
			return nil, fmt.Errorf("rate heads: %w", err)
		}
		head(bank).RatesQuotedAt = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rate heads: %w", err)
	}
	out := make([]obx.ProductHead, 0, len(order))
	for _, b := range order {
		out = append(out, *heads[b])
	}
	return out, nil
}
