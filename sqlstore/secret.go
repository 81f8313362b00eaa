package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
)

// Secret returns the hub-wide secret called name, creating it from gen on first
// use. Replicas racing to create it all end up with the one that was stored first.
func (db *DB) Secret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	var v string
	err := db.q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		b, err := gen()
		if err != nil {
			return nil, fmt.Errorf("generate secret %s: %w", name, err)
		}
		_, err = db.q.ExecContext(ctx,
			`INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			name, base64.StdEncoding.EncodeToString(b), db.ts(db.Now()))
		if err != nil {
			return nil, fmt.Errorf("store secret %s: %w", name, err)
		}
		err = db.q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
		if err != nil {
			return nil, fmt.Errorf("read secret %s: %w", name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	return base64.StdEncoding.DecodeString(v)
}
