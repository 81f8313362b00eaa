package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/obxhub/obx"
)

var _ obx.ParticipantStore = (*DB)(nil)

// newID returns a random positive 63-bit id. Random ids need no sequence, so
// every engine (and every replica) can mint them without coordination.
func newID() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// CreateTSP implements obx.ParticipantStore.
func (db *DB) CreateTSP(ctx context.Context, t *obx.TSP) error {
	if t.ID == 0 {
		t.ID = newID()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.Now().UTC()
	}
	_, err := db.q.ExecContext(ctx, `
		INSERT INTO tsps (id, name, client_use_code, status, self_auth, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Name, t.ClientUseCode, t.Status, t.SelfAuth, db.ts(t.CreatedAt))
	if isUniqueViolation(err) {
		return obx.WrapError(obx.ECONFLICT, "The client use code is already taken.", err)
	}
	if err != nil {
		return fmt.Errorf("insert tsp %s: %w", t.ClientUseCode, err)
	}
	return nil
}

const tspColumns = `id, name, client_use_code, status, self_auth, created_at`

func scanTSP(row interface{ Scan(...any) error }) (*obx.TSP, error) {
	var t obx.TSP
	err := row.Scan(tspDest(&t)...)
	return &t, err
}

// tspDest returns scan destinations for tspColumns into t.
func tspDest(t *obx.TSP) []any {
	return []any{&t.ID, &t.Name, &t.ClientUseCode, &t.Status, &t.SelfAuth, scanTime(&t.CreatedAt)}
}

// TSP implements obx.ParticipantStore.
func (db *DB) TSP(ctx context.Context, id int64) (*obx.TSP, error) {
	t, err := scanTSP(db.q.QueryRowContext(ctx, `SELECT `+tspColumns+` FROM tsps WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(fmt.Errorf("tsp %d: %w", id, err), "No such TSP.")
	}
	return t, nil
}

// TSPByUseCode implements obx.ParticipantStore.
func (db *DB) TSPByUseCode(ctx context.Context, code string) (*obx.TSP, error) {
	t, err := scanTSP(db.q.QueryRowContext(ctx, `SELECT `+tspColumns+` FROM tsps WHERE client_use_code = $1`, code))
	if err != nil {
		return nil, notFound(fmt.Errorf("tsp %s: %w", code, err), "No such TSP.")
	}
	return t, nil
}

// CreateClient implements obx.ParticipantStore.
func (db *DB) CreateClient(ctx context.Context, c *obx.Client) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.Now().UTC()
	}
	_, err := db.q.ExecContext(ctx, `
		INSERT INTO clients (client_id, tsp_id, name, secret_hash, redirect_uris, scopes, env, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.TSPID, c.Name, string(c.SecretHash), strings.Join(c.RedirectURIs, "\n"),
		strings.Join(c.Scopes, " "), c.Env, db.ts(c.CreatedAt), db.ts(c.RevokedAt))
	if isUniqueViolation(err) {
		return obx.WrapError(obx.ECONFLICT, "The client id is already taken.", err)
	}
	if err != nil {
		return fmt.Errorf("insert client: %w", err)
	}
	return nil
}

// Client implements obx.ParticipantStore.
func (db *DB) Client(ctx context.Context, id string) (*obx.Client, error) {
	c, err := scanClient(db.q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE client_id = $1`, id))
	if err != nil {
		return nil, notFound(fmt.Errorf("client: %w", err), "No such client.")
	}
	return c, nil
}

const clientColumns = `client_id, tsp_id, name, secret_hash, redirect_uris, scopes, env, created_at, revoked_at,
	previous_secret_hash, previous_secret_until`

func scanClient(row interface{ Scan(...any) error }) (*obx.Client, error) {
	dest, client := clientDest()
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return client(), nil
}

// clientDest returns scan destinations for clientColumns and a function that
// builds the client once they are filled, so that a joined row can scan a
// client among other columns.
func clientDest() ([]any, func() *obx.Client) {
	var c obx.Client
	var secret, uris, scopes, prev string
	dest := []any{&c.ID, &c.TSPID, &c.Name, &secret, &uris, &scopes, &c.Env, scanTime(&c.CreatedAt), scanTime(&c.RevokedAt),
		&prev, scanTime(&c.PreviousSecretUntil)}
	return dest, func() *obx.Client {
		c.SecretHash = []byte(secret)
		if prev != "" {
			c.PreviousSecretHash = []byte(prev)
		}
		c.RedirectURIs = splitNonEmpty(uris, "\n")
		c.Scopes = strings.Fields(scopes)
		return &c
	}
}

// columnsOf prefixes each of a column list's names with table alias a.
func columnsOf(a, columns string) string {
	names := strings.Split(columns, ",")
	for i, n := range names {
		names[i] = a + "." + strings.TrimSpace(n)
	}
	return strings.Join(names, ", ")
}

// UpdateClient implements obx.ParticipantStore.
func (db *DB) UpdateClient(ctx context.Context, c *obx.Client) error {
	res, err := db.q.ExecContext(ctx, `
		UPDATE clients SET name = $1, redirect_uris = $2, scopes = $3, revoked_at = $4 WHERE client_id = $5`,
		c.Name, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.Scopes, " "), db.ts(c.RevokedAt), c.ID)
	if err != nil {
		return fmt.Errorf("update client: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return obx.Errorf(obx.ENOTFOUND, "No such client.")
	}
	return nil
}

func splitNonEmpty(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// queryer is what both *sql.DB and *sql.Tx offer, so helpers compose.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
