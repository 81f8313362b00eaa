package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

var _ obx.AuditStore = (*DB)(nil)

// appendAudit writes e as the next entry of the audit trail, inside tx: the
// caller's change and its record commit or roll back together. Updating
// audit_head first takes its row lock, so concurrent writers queue up and
// each entry chains onto the one committed before it.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *obx.AuditEntry) error {
	if e == nil {
		return fmt.Errorf("audit: a change without an audit entry")
	}
	if e.At.IsZero() {
		e.At = db.Now()
	}
	// PostgreSQL keeps microseconds; hash what will be read back.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).
		Scan(&e.Seq, &e.PrevHash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	e.Hash = auditHash(e)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO audit_log (seq, at, actor, action, subject, before_state, after_state, note, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.Seq, db.ts(e.At), e.Actor, e.Action, e.Subject, e.Before, e.After, e.Note, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// auditHash is SHA-256 over the previous hash and every field of e, each
// length-prefixed so that no two different entries encode alike.
func auditHash(e *obx.AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{e.PrevHash, fmt.Sprint(e.Seq), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action,
		e.Subject, e.Before, e.After, e.Note} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

const auditColumns = `seq, at, actor, action, subject, before_state, after_state, note, prev_hash, hash`

func scanAudit(rows *sql.Rows) (*obx.AuditEntry, error) {
	var e obx.AuditEntry
	err := rows.Scan(&e.Seq, scanTime(&e.At), &e.Actor, &e.Action, &e.Subject, &e.Before, &e.After, &e.Note, &e.PrevHash, &e.Hash)
	return &e, err
}

// Audit implements obx.AuditStore.
func (db *DB) Audit(ctx context.Context, q obx.AuditQuery) ([]*obx.AuditEntry, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Actor != "" {
		arg("actor = $%d", q.Actor)
	}
	if q.Action != "" {
		// A prefix match without LIKE, whose escaping differs between engines.
		args = append(args, len(q.Action), q.Action)
		where = append(where, fmt.Sprintf("SUBSTR(action, 1, $%d) = $%d", len(args)-1, len(args)))
	}
	if q.Subject != "" {
		arg("subject = $%d", q.Subject)
	}
	if !q.From.IsZero() {
		arg("at >= $%d", db.ts(q.From))
	}
	if !q.To.IsZero() {
		arg("at <= $%d", db.ts(q.To))
	}
	if q.Before > 0 {
		arg("seq < $%d", q.Before)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, q.Limit)
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []*obx.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyAudit implements obx.AuditStore.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	var n int64
	prev := ""
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return n, fmt.Errorf("verify audit: %w", err)
		}
		n++
		if e.Seq != n {
			return n, obx.Errorf(obx.ECONFLICT, "The audit trail is broken: entry %d is missing.", n)
		}
		if e.PrevHash != prev || auditHash(e) != e.Hash {
			return n, obx.Errorf(obx.ECONFLICT, "The audit trail is broken at entry %d.", e.Seq)
		}
		prev = e.Hash
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var headSeq int64
	var headHash string
	if err := db.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return n, fmt.Errorf("verify audit: %w", err)
	}
	if headSeq != n || headHash != prev {
		return n, obx.Errorf(obx.ECONFLICT, "The audit trail is broken: its last %d entries are missing.", headSeq-n)
	}
	return n, nil
}
