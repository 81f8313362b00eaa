package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/obxhub/obx"
)

var _ obx.BankRegistry = (*DB)(nil)

func windowsText(ws []obx.MaintenanceWindow) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, w.String())
	}
	return strings.Join(parts, ",")
}

// RegisteredBanks implements obx.BankRegistry.
func (db *DB) RegisteredBanks(ctx context.Context) ([]*obx.BankConfig, error) {
	var out []*obx.BankConfig
	err := eachRow(ctx, db.db, `SELECT code, name, url, env, created_at FROM banks ORDER BY code`, nil,
		func(r *sql.Rows) error {
			var b obx.BankConfig
			if err := r.Scan(&b.Code, &b.Name, &b.URL, &b.Env, scanTime(&b.CreatedAt)); err != nil {
				return err
			}
			out = append(out, &b)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("registered banks: %w", err)
	}
	return out, nil
}

// RegisterBank implements obx.BankRegistry.
func (db *DB) RegisterBank(ctx context.Context, b *obx.BankConfig, e *obx.AuditEntry) error {
	b.CreatedAt = db.Now().UTC()
	return db.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO banks (code, name, url, env, created_at) VALUES ($1, $2, $3, $4, $5)`,
			b.Code, b.Name, b.URL, b.Env, db.ts(b.CreatedAt))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "A bank with that code is registered.", err)
		}
		if err != nil {
			return fmt.Errorf("register bank: %w", err)
		}
		return db.appendAudit(ctx, tx, e)
	})
}

// Maintenance implements obx.BankRegistry.
func (db *DB) Maintenance(ctx context.Context) (map[string][]obx.MaintenanceWindow, error) {
	out := map[string][]obx.MaintenanceWindow{}
	err := eachRow(ctx, db.db, `SELECT code, windows FROM bank_maintenance`, nil, func(r *sql.Rows) error {
		var code, text string
		if err := r.Scan(&code, &text); err != nil {
			return err
		}
		ws, err := obx.ParseMaintenance(text)
		if err != nil {
			return fmt.Errorf("bank %s: %w", code, err)
		}
		out[code] = ws
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("maintenance: %w", err)
	}
	return out, nil
}

// SetMaintenance implements obx.BankRegistry.
func (db *DB) SetMaintenance(ctx context.Context, code string, ws []obx.MaintenanceWindow, e *obx.AuditEntry) error {
	return db.transact(ctx, func(tx *sql.Tx) error {
		var before string
		err := tx.QueryRowContext(ctx, `SELECT windows FROM bank_maintenance WHERE code = $1`, code).Scan(&before)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("maintenance of %s: %w", code, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bank_maintenance (code, windows) VALUES ($1, $2)
			ON CONFLICT (code) DO UPDATE SET windows = excluded.windows`, code, windowsText(ws)); err != nil {
			return fmt.Errorf("set maintenance: %w", err)
		}
		e.Before, e.After = before, windowsText(ws)
		return db.appendAudit(ctx, tx, e)
	})
}
