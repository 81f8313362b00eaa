package obx

import (
	"context"
	"time"
)

// Staff roles of the operator console.
const (
	RoleAdmin    = "admin"    // everything, including staff and banks
	RoleReviewer = "reviewer" // the admission workflow steps
	RoleAuditor  = "auditor"  // read-only, with the audit trail
)

// Roles lists the staff roles.
var Roles = []string{RoleAdmin, RoleReviewer, RoleAuditor}

// StaffUser is a member of the center's staff.
type StaffUser struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	PasswordHash string // PHC-encoded argon2id
	CreatedAt    time.Time
}

// Can reports whether the user's role allows action: "read" (every role),
// "review" (admin, reviewer), "audit" (admin, auditor), "admin" (admin).
func (u *StaffUser) Can(action string) bool {
	switch action {
	case "read":
		return true
	case "review":
		return u.Role == RoleAdmin || u.Role == RoleReviewer
	case "audit":
		return u.Role == RoleAdmin || u.Role == RoleAuditor
	}
	return u.Role == RoleAdmin
}

// PortalUser is a person of a TSP signed up on the developer portal.
type PortalUser struct {
	ID           int64
	TSPID        int64
	Email        string
	Name         string
	Phone        string
	PasswordHash string
	CreatedAt    time.Time
}

// Session kinds.
const (
	SessionStaff  = "staff"
	SessionPortal = "portal"
)

// WebSession is a signed-in browser. The cookie holds a random token; the
// database holds its hash, so every replica knows the session and a database
// leak does not hand out sessions.
type WebSession struct {
	TokenHash string
	Kind      string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Document is a file uploaded with an application.
type Document struct {
	ID          int64
	TSPID       int64
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	Data        []byte // only when read for download
	UploadedAt  time.Time
}

// UserStore keeps staff and portal users, sessions, sign-in throttling and
// documents.
type UserStore interface {
	CreateStaff(ctx context.Context, u *StaffUser, e *AuditEntry) error
	StaffByEmail(ctx context.Context, email string) (*StaffUser, error)
	Staff(ctx context.Context, id int64) (*StaffUser, error)
	PortalUserByEmail(ctx context.Context, email string) (*PortalUser, error)
	PortalUser(ctx context.Context, id int64) (*PortalUser, error)
	SetPortalPassword(ctx context.Context, id int64, hash string, e *AuditEntry) error

	CreateSession(ctx context.Context, s *WebSession) error
	Session(ctx context.Context, tokenHash string, now time.Time) (*WebSession, error)
	DeleteSession(ctx context.Context, tokenHash string) error

	// SignInAttempt counts a failed sign-in for key within window and
	// returns the count so far in that window.
	SignInFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// SignInFailures returns key's failures in the window ending at now.
	SignInFailures(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)

	AddDocument(ctx context.Context, d *Document, e *AuditEntry) error
	Documents(ctx context.Context, tspID int64) ([]*Document, error)
	Document(ctx context.Context, tspID, id int64) (*Document, error)
}
