package obx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ProductIndex is the in-memory index that serves product queries. Products
// keeps it current; package productindex implements it.
type ProductIndex interface {
	// SetCatalogs makes each of cs its bank's catalog in service, unless the
	// index already holds a newer version.
	SetCatalogs(cs ...*Catalog)
	// SetRates makes b the bank's rate board in service, unless the index
	// already holds a newer one.
	SetRates(b *RateBoard)
	// Head returns the catalog version and rate time the index holds for bank.
	Head(bank string) ProductHead
}

// Products publishes banks' product data: it validates every catalog and
// rate board as a whole, stores each version, and keeps the index current.
// Banks publish by push (PublishCatalog, PublishRates, from the bank-side
// HTTP interface) or are pulled (Pull, on a schedule, with conditional
// requests). A rejected publication changes nothing: the previous version
// stays in service.
type Products struct {
	Store  ProductStore
	Index  ProductIndex
	Logger *slog.Logger

	mu    sync.Mutex        // guards etags
	etags map[string]string // "catalog/088", "rates/088" → the ETag of the last pull
}

// PublishCatalog validates c and, when it differs from the bank's current
// version, stores it as the next version and puts it in service. It returns
// whether a new version was stored. A catalog with any bad record is EINVALID
// carrying a *ValidationReport, and nothing changes.
func (p *Products) PublishCatalog(ctx context.Context, c *Catalog) (bool, error) {
	if ps := c.Validate(); len(ps) > 0 {
		return false, RejectError("catalog", ps)
	}
	c.Digest = c.ContentDigest()
	saved, err := p.Store.SaveCatalog(ctx, c)
	if err != nil {
		return false, fmt.Errorf("save catalog of bank %s: %w", c.BankCode, err)
	}
	if saved {
		p.Index.SetCatalogs(c)
	}
	return saved, nil
}

// PublishRates validates b and stores it unless a board with the same quote
// time exists; the newest board goes into service. EINVALID with a
// *ValidationReport if any rate is bad.
func (p *Products) PublishRates(ctx context.Context, b *RateBoard) (bool, error) {
	if ps := b.Validate(); len(ps) > 0 {
		return false, RejectError("rate board", ps)
	}
	saved, err := p.Store.SaveRates(ctx, b)
	if err != nil {
		return false, fmt.Errorf("save rates of bank %s: %w", b.BankCode, err)
	}
	if saved {
		p.Index.SetRates(b)
	}
	return saved, nil
}

// Pull fetches bank's catalog and rates from src with conditional requests
// and publishes what changed. A rejected catalog is reported in the error;
// its ETag is remembered, so the same bad content is not fetched again until
// the bank changes it.
func (p *Products) Pull(ctx context.Context, bank string, src CatalogSource) error {
	cf, err := src.FetchCatalog(ctx, p.etag("catalog/"+bank))
	if err != nil {
		return fmt.Errorf("pull catalog of bank %s: %w", bank, err)
	}
	var catalogErr error
	if !cf.NotModified {
		switch {
		case len(cf.Problems) > 0:
			catalogErr = RejectError("catalog", cf.Problems)
		case cf.Catalog.BankCode != bank:
			catalogErr = Errorf(EINVALID, "Bank %s published a catalog for bank %s.", bank, cf.Catalog.BankCode)
		default:
			_, catalogErr = p.PublishCatalog(ctx, cf.Catalog)
		}
		if catalogErr == nil || ErrorCode(catalogErr) == EINVALID {
			p.setETag("catalog/"+bank, cf.ETag)
		}
	}
	rf, err := src.FetchRates(ctx, p.etag("rates/"+bank))
	if err != nil {
		return fmt.Errorf("pull rates of bank %s: %w", bank, err)
	}
	if !rf.NotModified {
		var ratesErr error
		switch {
		case len(rf.Problems) > 0:
			ratesErr = RejectError("rate board", rf.Problems)
		case rf.Board.BankCode != bank:
			ratesErr = Errorf(EINVALID, "Bank %s published rates for bank %s.", bank, rf.Board.BankCode)
		default:
			_, ratesErr = p.PublishRates(ctx, rf.Board)
		}
		if ratesErr == nil || ErrorCode(ratesErr) == EINVALID {
			p.setETag("rates/"+bank, rf.ETag)
		}
		if catalogErr == nil {
			catalogErr = ratesErr
		}
	}
	return catalogErr
}

func (p *Products) etag(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.etags[key]
}

func (p *Products) setETag(key, etag string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.etags == nil {
		p.etags = map[string]string{}
	}
	p.etags[key] = etag
}

// Refresh loads into the index every catalog version and rate board newer
// than what it holds. Each replica calls it at start and then every few
// seconds, so that a publication received by any replica reaches all.
func (p *Products) Refresh(ctx context.Context) error {
	heads, err := p.Store.ProductHeads(ctx)
	if err != nil {
		return fmt.Errorf("product heads: %w", err)
	}
	var stale []*Catalog
	defer func() {
		if len(stale) > 0 {
			p.Index.SetCatalogs(stale...) // one rebuild of the index for all
		}
	}()
	for _, h := range heads {
		have := p.Index.Head(h.BankCode)
		if h.Version > have.Version {
			c, err := p.Store.Catalog(ctx, h.BankCode, time.Time{})
			if err != nil {
				return fmt.Errorf("load catalog of bank %s: %w", h.BankCode, err)
			}
			stale = append(stale, c)
		}
		if h.RatesQuotedAt.After(have.RatesQuotedAt) {
			b, err := p.Store.Rates(ctx, h.BankCode, time.Time{})
			if err != nil {
				return fmt.Errorf("load rates of bank %s: %w", h.BankCode, err)
			}
			p.Index.SetRates(b)
		}
	}
	return nil
}

// logger returns p.Logger or a discarding one.
func (p *Products) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// PullAll pulls every bank in srcs (by code), logging each failure once
// where it is handled here, and returns how many failed.
func (p *Products) PullAll(ctx context.Context, srcs map[string]CatalogSource) int {
	failed := 0
	for code, src := range srcs {
		if err := p.Pull(ctx, code, src); err != nil {
			failed++
			attrs := []any{"bank_code", code, "err", err}
			if r := ReportOf(err); r != nil && len(r.Problems) > 0 {
				attrs = append(attrs, "problems", len(r.Problems), "first_record", r.Problems[0].Record)
			}
			p.logger().Warn("product data pull failed", attrs...)
		}
	}
	return failed
}
