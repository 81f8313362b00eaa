package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/obxhub/obx"
)

// CallRetention is how long API calls are kept for the portal.
const CallRetention = 7 * 24 * time.Hour

// Calls is the batched API call log (obx.CallLog). RecordCall puts a call
// on a bounded queue and returns; one goroutine writes the queue every
// flushEvery or every callBatch calls, in one multi-row INSERT. When the
// database falls behind and the queue is full, calls are dropped (and
// counted) rather than slowing the API down. Close writes what is queued.
type Calls struct {
	db      *DB
	logger  *slog.Logger
	queue   chan obx.APICall
	dropped atomic.Int64
	flushes chan chan error // Flush's requests to the writer
	stop    chan struct{}
	done    sync.WaitGroup
}

var _ obx.CallLog = (*Calls)(nil)

const (
	callQueue  = 8192
	callBatch  = 200
	flushEvery = 500 * time.Millisecond
)

// NewCalls starts the call log's writer; Close stops it.
func NewCalls(db *DB, logger *slog.Logger) *Calls {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Calls{db: db, logger: logger, queue: make(chan obx.APICall, callQueue),
		flushes: make(chan chan error), stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// RecordCall implements obx.CallLog.
func (c *Calls) RecordCall(call obx.APICall) {
	select {
	case c.queue <- call:
	default:
		c.dropped.Add(1)
	}
}

// Dropped returns how many calls were dropped because the queue was full.
func (c *Calls) Dropped() int64 { return c.dropped.Load() }

func (c *Calls) run() {
	defer c.done.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	var batch []obx.APICall
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.write(ctx, batch); err != nil {
			c.logger.Warn("api call log: batch lost", "calls", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case call := <-c.queue:
			batch = append(batch, call)
			if len(batch) >= callBatch {
				flush()
			}
		case <-t.C:
			flush()
		case reply := <-c.flushes:
			for drained := false; !drained; {
				select {
				case call := <-c.queue:
					batch = append(batch, call)
				default:
					drained = true
				}
			}
			err := c.write(context.Background(), batch)
			batch = batch[:0]
			reply <- err
		case <-c.stop:
			for {
				select {
				case call := <-c.queue:
					batch = append(batch, call)
					if len(batch) >= callBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// Flush writes every call recorded so far, and returns once they are in
// the database; for tests.
func (c *Calls) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case c.flushes <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Calls) write(ctx context.Context, batch []obx.APICall) error {
	for len(batch) > 0 {
		n := min(len(batch), callBatch)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO api_calls (id, tsp_id, client_id, env, at, api, status, rsp_code, latency_us) VALUES `)
		args := make([]any, 0, n*9)
		for i, call := range batch[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", i*9+1, i*9+2, i*9+3, i*9+4, i*9+5, i*9+6, i*9+7, i*9+8, i*9+9)
			args = append(args, newID(), call.TSPID, call.ClientID, call.Env, c.db.ts(call.At), call.API, call.Status,
				call.RspCode, call.Latency.Microseconds())
		}
		if _, err := c.db.db.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("write api calls: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}

// Close writes the queued calls and stops the writer.
func (c *Calls) Close() {
	close(c.stop)
	c.done.Wait()
}

// RecentCalls implements obx.CallLog.
func (c *Calls) RecentCalls(ctx context.Context, tspID int64, limit int) ([]*obx.APICall, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []*obx.APICall
	err := eachRow(ctx, c.db.db, `SELECT client_id, env, at, api, status, rsp_code, latency_us FROM api_calls
		WHERE tsp_id = $1 ORDER BY at DESC, id LIMIT $2`, []any{tspID, limit}, func(r *sql.Rows) error {
		call := obx.APICall{TSPID: tspID}
		var us int64
		if err := r.Scan(&call.ClientID, &call.Env, scanTime(&call.At), &call.API, &call.Status, &call.RspCode, &us); err != nil {
			return err
		}
		call.Latency = time.Duration(us) * time.Microsecond
		out = append(out, &call)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent calls: %w", err)
	}
	return out, nil
}

// PurgeCalls deletes calls older than CallRetention. Idempotent, so every
// replica may run it.
func (c *Calls) PurgeCalls(ctx context.Context, now time.Time) error {
	if _, err := c.db.db.ExecContext(ctx, `DELETE FROM api_calls WHERE at < $1`, c.db.ts(now.Add(-CallRetention))); err != nil {
		return fmt.Errorf("purge api calls: %w", err)
	}
	return nil
}
