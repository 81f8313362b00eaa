package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errClosed answers calls made after Close.
var errClosed = errors.New("sqlstore: database closed")

// groupTimeout bounds one batch's transaction, retries included.
const groupTimeout = 30 * time.Second

// group runs calls that arrive together as one batch on one goroutine: group
// commit. While a batch's transaction commits, the next calls queue; the
// goroutine then takes all of them at once. One transaction, one commit and
// one lock on each hot row (a TSP's limit, the settlement cycle) then serve
// many transfers, so throughput grows with load, and a call still returns only
// once its own write is durable (or definitely failed).
//
// Several batches may be in flight (workers): a batch's round trips and
// commit wait on the network and the disk, and a single loop would leave the
// database idle meanwhile. PostgreSQL then merges the batches' WAL flushes.
type group[T any] struct {
	calls   chan *groupCall[T]
	run     func(context.Context, []*groupCall[T]) // sets each call's err
	max     int
	workers int

	start sync.Once
	quit  chan struct{}
	done  sync.WaitGroup
}

// groupCall is one caller's part of a batch.
type groupCall[T any] struct {
	arg  T
	err  error
	done chan struct{}
}

func newGroup[T any](max, workers int, run func(context.Context, []*groupCall[T])) *group[T] {
	return &group[T]{calls: make(chan *groupCall[T]), run: run, max: max, workers: workers,
		quit: make(chan struct{})}
}

// do adds arg to the next batch and waits for the batch's outcome for it. It
// does not give up when ctx ends: by then the write may be committing, and
// the caller must learn whether it was. A batch is bounded by groupTimeout.
func (g *group[T]) do(ctx context.Context, arg T) error {
	g.start.Do(func() {
		g.done.Add(g.workers)
		for range g.workers {
			go g.loop()
		}
	})
	c := &groupCall[T]{arg: arg, done: make(chan struct{})}
	select {
	case g.calls <- c:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err() // not queued: nothing was written
	}
	<-c.done
	return c.err
}

func (g *group[T]) loop() {
	defer g.done.Done()
	batch := make([]*groupCall[T], 0, g.max)
	for {
		batch = batch[:0]
		select {
		case c := <-g.calls:
			batch = append(batch, c)
		case <-g.quit:
			return
		}
	more:
		for len(batch) < g.max {
			select {
			case c := <-g.calls:
				batch = append(batch, c)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		g.run(ctx, batch)
		cancel()
		for _, c := range batch {
			close(c.done)
		}
	}
}

// close stops the workers after their current batches.
func (g *group[T]) close() {
	g.start.Do(func() {}) // no worker starts after this
	close(g.quit)
	g.done.Wait()
}

// maxSaveBatch bounds how many SaveTransfer calls share a transaction.
const maxSaveBatch = 128

// groupWorkers is how many batches of one kind may be in flight at once.
const groupWorkers = 4
