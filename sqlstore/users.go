package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/obxhub/obx"
)

var _ obx.UserStore = (*DB)(nil)

// CreateStaff implements obx.UserStore.
func (db *DB) CreateStaff(ctx context.Context, u *obx.StaffUser, e *obx.AuditEntry) error {
	if u.ID == 0 {
		u.ID = newID()
	}
	u.CreatedAt = db.Now().UTC()
	return db.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff_users (id, email, name, role, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, u.Email, u.Name, u.Role, u.PasswordHash, db.ts(u.CreatedAt))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "A staff member with that email exists.", err)
		}
		if err != nil {
			return fmt.Errorf("insert staff: %w", err)
		}
		return db.appendAudit(ctx, tx, e)
	})
}

const staffColumns = `id, email, name, role, password_hash, created_at`

func scanStaff(row *sql.Row) (*obx.StaffUser, error) {
	var u obx.StaffUser
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, scanTime(&u.CreatedAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("staff: %w", err), "No such staff member.")
	}
	return &u, nil
}

// StaffByEmail implements obx.UserStore.
func (db *DB) StaffByEmail(ctx context.Context, email string) (*obx.StaffUser, error) {
	return scanStaff(db.q.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM staff_users WHERE email = $1`, email))
}

// Staff implements obx.UserStore.
func (db *DB) Staff(ctx context.Context, id int64) (*obx.StaffUser, error) {
	return scanStaff(db.q.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM staff_users WHERE id = $1`, id))
}

const portalColumns = `id, tsp_id, email, name, phone, password_hash, created_at`

func scanPortal(row *sql.Row) (*obx.PortalUser, error) {
	var u obx.PortalUser
	err := row.Scan(&u.ID, &u.TSPID, &u.Email, &u.Name, &u.Phone, &u.PasswordHash, scanTime(&u.CreatedAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("portal user: %w", err), "No such user.")
	}
	return &u, nil
}

// PortalUserByEmail implements obx.UserStore.
func (db *DB) PortalUserByEmail(ctx context.Context, email string) (*obx.PortalUser, error) {
	return scanPortal(db.q.QueryRowContext(ctx, `SELECT `+portalColumns+` FROM portal_users WHERE email = $1`, email))
}

// PortalUser implements obx.UserStore.
func (db *DB) PortalUser(ctx context.Context, id int64) (*obx.PortalUser, error) {
	return scanPortal(db.q.QueryRowContext(ctx, `SELECT `+portalColumns+` FROM portal_users WHERE id = $1`, id))
}

// SetPortalPassword implements obx.UserStore.
func (db *DB) SetPortalPassword(ctx context.Context, id int64, hash string, e *obx.AuditEntry) error {
	return db.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE portal_users SET password_hash = $2 WHERE id = $1`, id, hash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return obx.Errorf(obx.ENOTFOUND, "No such user.")
		}
		// Every session of the user ends with the old password.
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE kind = $1 AND user_id = $2`, obx.SessionPortal, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return db.appendAudit(ctx, tx, e)
	})
}

// CreateSession implements obx.UserStore.
func (db *DB) CreateSession(ctx context.Context, s *obx.WebSession) error {
	_, err := db.q.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, kind, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, s.TokenHash, s.Kind, s.UserID, db.ts(s.CreatedAt), db.ts(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session implements obx.UserStore. ENOTFOUND for an unknown or expired session.
func (db *DB) Session(ctx context.Context, tokenHash string, now time.Time) (*obx.WebSession, error) {
	var s obx.WebSession
	err := db.q.QueryRowContext(ctx, `SELECT token_hash, kind, user_id, created_at, expires_at FROM web_sessions
		WHERE token_hash = $1 AND expires_at > $2`, tokenHash, db.ts(now)).
		Scan(&s.TokenHash, &s.Kind, &s.UserID, scanTime(&s.CreatedAt), scanTime(&s.ExpiresAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("session: %w", err), "No such session.")
	}
	return &s, nil
}

// DeleteSession implements obx.UserStore.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.q.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SignInFailure implements obx.UserStore.
func (db *DB) SignInFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	if _, err := db.q.ExecContext(ctx, `INSERT INTO signin_failures (throttle_key, at) VALUES ($1, $2)`, key, db.ts(now)); err != nil {
		return 0, fmt.Errorf("sign-in failure: %w", err)
	}
	return db.SignInFailures(ctx, key, now, window)
}

// SignInFailures implements obx.UserStore.
func (db *DB) SignInFailures(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := db.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_failures WHERE throttle_key = $1 AND at > $2`,
		key, db.ts(now.Add(-window))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sign-in failures: %w", err)
	}
	return n, nil
}

// AddDocument implements obx.UserStore.
func (db *DB) AddDocument(ctx context.Context, d *obx.Document, e *obx.AuditEntry) error {
	if d.ID == 0 {
		d.ID = newID()
	}
	d.UploadedAt = db.Now().UTC()
	return db.transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO documents (id, tsp_id, name, content_type, size, sha256, data, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, d.ID, d.TSPID, d.Name, d.ContentType, d.Size, d.SHA256, d.Data,
			db.ts(d.UploadedAt)); err != nil {
			return fmt.Errorf("add document: %w", err)
		}
		return db.appendAudit(ctx, tx, e)
	})
}

// Documents implements obx.UserStore: the TSP's documents without their data.
func (db *DB) Documents(ctx context.Context, tspID int64) ([]*obx.Document, error) {
	var out []*obx.Document
	err := eachRow(ctx, db.db, `SELECT id, name, content_type, size, sha256, uploaded_at FROM documents
		WHERE tsp_id = $1 ORDER BY uploaded_at, id`, []any{tspID}, func(r *sql.Rows) error {
		d := obx.Document{TSPID: tspID}
		if err := r.Scan(&d.ID, &d.Name, &d.ContentType, &d.Size, &d.SHA256, scanTime(&d.UploadedAt)); err != nil {
			return err
		}
		out = append(out, &d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	return out, nil
}

// Document implements obx.UserStore: one of the TSP's documents, with its
// data. ENOTFOUND if the TSP has no such document.
func (db *DB) Document(ctx context.Context, tspID, id int64) (*obx.Document, error) {
	d := obx.Document{TSPID: tspID, ID: id}
	err := db.q.QueryRowContext(ctx, `SELECT name, content_type, size, sha256, data, uploaded_at FROM documents
		WHERE tsp_id = $1 AND id = $2`, tspID, id).
		Scan(&d.Name, &d.ContentType, &d.Size, &d.SHA256, &d.Data, scanTime(&d.UploadedAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("document: %w", err), "No such document.")
	}
	return &d, nil
}

// PurgeWebState deletes expired sessions and sign-in failures older than
// window, which throttling no longer reads. Idempotent, so every replica
// may run it.
func (db *DB) PurgeWebState(ctx context.Context, now time.Time, window time.Duration) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= $1`, db.ts(now)); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM signin_failures WHERE at <= $1`, db.ts(now.Add(-window))); err != nil {
		return fmt.Errorf("purge sign-in failures: %w", err)
	}
	return nil
}
