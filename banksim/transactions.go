package banksim

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/obxhub/obx"
)

// MaxPageSize is the most history rows one Transactions call returns, as on
// the KFTC wire; it is also the default.
const MaxPageSize = 25

// Transactions returns one page of an account's history between q.From and
// q.To inclusive (a zero bound is open), filtered by q.Direction, newest first
// unless q.Ascending. q.Limit of 0 means MaxPageSize; larger values are capped.
//
// Pages are read by keyset on (account, at, id): the cursor names the last row
// returned, and the next page starts strictly after it in the requested order.
// A cursor stays valid while rows are appended, and a page deep in a history
// of millions of rows costs the same as the first.
//
// Returns a *obx.BankError 412 for an unknown account and EINVALID for a bad
// direction, a negative limit or a malformed cursor.
func (b *Bank) Transactions(ctx context.Context, q obx.TransactionQuery) (*obx.TransactionPage, error) {
	if err := b.inject(ctx); err != nil {
		return nil, err
	}
	dir := q.Direction
	switch dir {
	case "":
		dir = obx.DirectionAll
	case obx.DirectionAll, obx.DirectionIn, obx.DirectionOut:
	default:
		return nil, obx.Errorf(obx.EINVALID, "Direction must be A, I or O.")
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, obx.Errorf(obx.EINVALID, "Limit must not be negative.")
	case limit == 0 || limit > MaxPageSize:
		limit = MaxPageSize
	}

	// The range is a half-open keyset interval on (at, id): rows strictly after
	// lo and strictly before hi. ids start at 1, so (from, 0) admits every row
	// at from, and (to, MaxInt64) every row at to.
	lo, hi := key{math.MinInt64, 0}, key{math.MaxInt64, math.MaxInt64}
	if !q.From.IsZero() {
		lo = key{ceilMicro(q.From), 0}
	}
	if !q.To.IsZero() {
		hi = key{q.To.UnixMicro(), math.MaxInt64}
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		if q.Ascending {
			lo = maxKey(lo, c)
		} else {
			hi = minKey(hi, c)
		}
	}

	page := &obx.TransactionPage{}
	err := b.read(ctx, func(tx *sql.Tx) error {
		_, balance, err := b.account(ctx, tx, q.AccountNum)
		if err != nil {
			return err
		}
		page.Balance = balance
		stmt := b.pageDesc
		if q.Ascending {
			stmt = b.pageAsc
		}
		rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx,
			q.AccountNum, lo.at, lo.id, hi.at, hi.id, dir, limit+1)
		if err != nil {
			return fmt.Errorf("select transactions: %w", err)
		}
		defer rows.Close()
		var last key
		for rows.Next() {
			if len(page.Items) == limit {
				// One row more than the page: there is a next page, and it
				// starts after the last row returned.
				page.NextCursor = encodeCursor(last)
				break
			}
			var (
				t     obx.Transaction
				at    int64
				inout string
			)
			if err := rows.Scan(&last.id, &at, &inout, &t.Type, &t.PrintContent, &t.Amount, &t.AfterBalance, &t.BranchName); err != nil {
				return fmt.Errorf("scan transaction: %w", err)
			}
			last.at = at
			t.At = time.UnixMicro(at).UTC()
			t.In = inout == obx.DirectionIn
			page.Items = append(page.Items, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// pageQuery is the keyset page query in one order. The row-value bounds let
// SQLite seek the (account, at, id) index straight to the page's first row.
func pageQuery(asc bool) string {
	order := "DESC"
	if asc {
		order = "ASC"
	}
	return `
		SELECT id, at, inout, type, print_content, amount, after_balance, branch_name
		FROM transactions
		WHERE account = ?1 AND (at, id) > (?2, ?3) AND (at, id) < (?4, ?5)
		  AND (?6 = 'A' OR inout = ?6)
		ORDER BY at ` + order + `, id ` + order + `
		LIMIT ?7`
}

// key is a position in an account's history: a row's (at, id).
type key struct{ at, id int64 }

func (k key) less(o key) bool { return k.at < o.at || k.at == o.at && k.id < o.id }

func maxKey(a, b key) key {
	if a.less(b) {
		return b
	}
	return a
}

func minKey(a, b key) key {
	if a.less(b) {
		return a
	}
	return b
}

// ceilMicro is t in unix microseconds rounded up, so that "at >= From" holds
// exactly for rows stored at microsecond precision.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro() // floor: the nanosecond part is never negative
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// A cursor is the last row's at in base 36, zero-padded to 11 digits (enough
// until the year 6000), followed by its id in base 36 (up to 9 digits): at most
// 20 alphanumeric characters, as KFTC's befor_inquiry_trace_info AN(20) allows.
const (
	cursorAtDigits = 11
	maxCursorLen   = 20
)

func encodeCursor(k key) string {
	at := strconv.FormatInt(k.at, 36)
	for len(at) < cursorAtDigits {
		at = "0" + at
	}
	return at + strconv.FormatInt(k.id, 36)
}

// decodeCursor parses a cursor made by encodeCursor. It returns EINVALID for
// anything else; a well-formed cursor from another account or query only
// selects a position, which reveals nothing.
func decodeCursor(s string) (key, error) {
	bad := obx.Errorf(obx.EINVALID, "The history cursor is malformed.")
	if len(s) <= cursorAtDigits || len(s) > maxCursorLen {
		return key{}, bad
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return key{}, bad
		}
	}
	at, err := strconv.ParseInt(s[:cursorAtDigits], 36, 64)
	if err != nil {
		return key{}, bad
	}
	id, err := strconv.ParseInt(s[cursorAtDigits:], 36, 64)
	if err != nil || id < 1 {
		return key{}, bad
	}
	return key{at, id}, nil
}
