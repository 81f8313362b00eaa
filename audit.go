package obx

import (
	"context"
	"time"
)

// AuditEntry is one line of the audit trail: who did what to which subject,
// when, and the subject's state before and after. Entries are appended in
// the same transaction as the change they record and are never changed or
// deleted. Each entry's Hash covers its content and the previous entry's
// hash, so a removed or edited entry breaks the chain (VerifyAudit).
type AuditEntry struct {
	Seq      int64
	At       time.Time
	Actor    string // "staff:alice@center", "tsp:<id>:bob@fintech", "system"
	Action   string // e.g. "application.submit", "tsp.suspend"
	Subject  string // e.g. "tsp:123", "client:<id>", "staff:<email>"
	Before   string // a short rendering of the subject before (state, fields)
	After    string
	Note     string
	PrevHash string
	Hash     string
}

// AuditQuery filters the audit trail. Zero fields match everything.
type AuditQuery struct {
	Actor   string
	Action  string // a prefix, e.g. "tsp."
	Subject string
	From    time.Time
	To      time.Time
	Before  int64 // entries with Seq below this, for paging; 0 = from the newest
	Limit   int
}

// AuditStore reads the audit trail. Writing happens inside the other stores'
// transactions.
type AuditStore interface {
	// Audit returns the entries matching q, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
	// VerifyAudit recomputes the hash chain and returns the number of
	// entries checked, or an error naming the first broken entry.
	VerifyAudit(ctx context.Context) (int64, error)
}

// APICall is one KFTC API call as its TSP sees it on the portal, to debug.
type APICall struct {
	TSPID    int64
	ClientID string
	Env      string
	At       time.Time
	API      string // the route, e.g. "GET /v2.0/account/balance/fin_num"
	Status   int    // HTTP status
	RspCode  string // KFTC rsp_code
	Latency  time.Duration
}

// CallLog keeps TSPs' recent API calls. Calls are written in batches off
// the request path, so a crash may lose the last second's calls; they are a
// debugging aid, not a record of money (transfers and the audit trail are).
type CallLog interface {
	// RecordCall queues c for writing; it never blocks.
	RecordCall(c APICall)
	// RecentCalls returns a TSP's latest calls, newest first.
	RecentCalls(ctx context.Context, tspID int64, limit int) ([]*APICall, error)
}
