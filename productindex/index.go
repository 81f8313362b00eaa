// Package productindex serves the public product data of every bank from
// memory. Product queries are the hub's highest-volume, lowest-risk traffic,
// so they never reach the database: the index holds an immutable snapshot of
// every bank's catalog and rate board, with a spatial grid over branches and
// ATMs, and a publication builds a new snapshot and swaps it in atomically.
// Readers never lock and never see a half-updated index.
package productindex

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/obxhub/obx"
)

// Index is the in-memory product index. The zero value is empty and ready.
type Index struct {
	mu   sync.Mutex // serializes writers; readers only load snap
	snap atomic.Pointer[snapshot]
}

var _ obx.ProductIndex = (*Index)(nil)

// New returns an empty index.
func New() *Index { return &Index{} }

// bank is one bank's data in a snapshot. Its fields never change once the
// snapshot is published.
type bank struct {
	obx.BankProducts // Catalog without Branches and ATMs: the grids hold them
	holidays         obx.HolidaySet
	// places is the catalog as published until the grids are built from it,
	// then nil, so that its branches and ATMs can be collected.
	places *obx.Catalog
}

// snapshot is the whole index at one moment.
type snapshot struct {
	banks    map[string]*bank
	codes    []string // sorted
	branches *grid
	atms     *grid
}

func (ix *Index) load() *snapshot {
	if s := ix.snap.Load(); s != nil {
		return s
	}
	return &snapshot{banks: map[string]*bank{}, branches: newGrid(placeTable{}), atms: newGrid(placeTable{})}
}

// SetCatalogs implements obx.ProductIndex. It rebuilds the spatial grids
// once for all of cs, which takes about a tenth of a second for a hundred
// thousand places: catalogs change rarely, and a replica loading every bank
// at start passes them together.
func (ix *Index) SetCatalogs(cs ...*obx.Catalog) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old := ix.load()
	var bs []*bank
	for _, c := range cs {
		prev := old.banks[c.BankCode]
		if prev != nil && prev.Catalog.Version > c.Version {
			continue
		}
		lean := *c
		lean.Branches, lean.ATMs = nil, nil
		b := &bank{BankProducts: obx.BankProducts{Catalog: &lean, Location: c.Location()}, holidays: obx.NewHolidaySet(c.Holidays),
			places: c}
		if prev != nil {
			b.Rates = prev.Rates
		}
		bs = append(bs, b)
	}
	if len(bs) > 0 {
		ix.snap.Store(old.with(bs, true))
	}
}

// SetRates implements obx.ProductIndex. The grids are shared with the
// previous snapshot: a rate board changes no place.
func (ix *Index) SetRates(r *obx.RateBoard) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old := ix.load()
	prev := old.banks[r.BankCode]
	if prev != nil && prev.Rates != nil && prev.Rates.QuotedAt.After(r.QuotedAt) {
		return
	}
	b := &bank{}
	if prev != nil {
		*b = *prev
	} else {
		c := &obx.Catalog{BankCode: r.BankCode}
		b.Catalog, b.Location, b.holidays = c, c.Location(), obx.HolidaySet{}
	}
	b.Rates = r
	ix.snap.Store(old.with([]*bank{b}, false))
}

// with returns a copy of s with bs in place of their banks, rebuilding the
// grids if places changed.
func (s *snapshot) with(bs []*bank, places bool) *snapshot {
	n := &snapshot{banks: make(map[string]*bank, len(s.banks)+len(bs)), branches: s.branches, atms: s.atms}
	for code, old := range s.banks {
		n.banks[code] = old
	}
	for _, b := range bs {
		n.banks[b.Catalog.BankCode] = b
	}
	for code := range n.banks {
		n.codes = append(n.codes, code)
	}
	slices.Sort(n.codes)
	if places {
		branches, atms := newTableBuilder(), newTableBuilder()
		for _, code := range n.codes {
			bk := n.banks[code]
			branches.addBank(bk)
			atms.addBank(bk)
			if c := bk.places; c != nil {
				for i := range c.Branches {
					branches.addBranch(&c.Branches[i])
				}
				for i := range c.ATMs {
					atms.addATM(&c.ATMs[i])
				}
				continue
			}
			// An unchanged bank: its places are only in the grids now.
			for _, i := range s.branches.catalogPlaces(code) {
				branches.addFrom(&s.branches.placeTable, &s.branches.places[i])
			}
			for _, i := range s.atms.catalogPlaces(code) {
				atms.addFrom(&s.atms.placeTable, &s.atms.places[i])
			}
		}
		n.branches, n.atms = newGrid(branches.table()), newGrid(atms.table())
		for _, bk := range bs {
			bk.places = nil
		}
	}
	return n
}

// Head implements obx.ProductIndex.
func (ix *Index) Head(code string) obx.ProductHead {
	b := ix.load().banks[code]
	if b == nil {
		return obx.ProductHead{BankCode: code}
	}
	h := obx.ProductHead{BankCode: code, Version: b.Catalog.Version}
	if b.Rates != nil {
		h.RatesQuotedAt = b.Rates.QuotedAt
	}
	return h
}

// Bank returns the data in service for a bank, and false if it has
// published none. The catalog is a copy with its branches and ATMs rebuilt
// from the grids, which allocates in proportion to them: serving paths use
// Products unless they need the places.
func (ix *Index) Bank(code string) (*obx.BankProducts, bool) {
	s := ix.load()
	b := s.banks[code]
	if b == nil {
		return nil, false
	}
	c := *b.Catalog
	c.Branches, c.ATMs = nil, nil
	for _, i := range s.branches.catalogPlaces(code) {
		c.Branches = append(c.Branches, *s.branches.branch(&s.branches.places[i]))
	}
	for _, i := range s.atms.catalogPlaces(code) {
		c.ATMs = append(c.ATMs, *s.atms.atm(&s.atms.places[i]))
	}
	bp := b.BankProducts
	bp.Catalog = &c
	return &bp, true
}

// Branches returns the branches of bank code in catalog order from offset,
// at most limit of them, and how many there are; with place set, only the
// branch with that code. Only the page is rebuilt. It returns false if the
// bank has published nothing.
func (ix *Index) Branches(code, place string, offset, limit int) ([]obx.Branch, int, bool) {
	s := ix.load()
	if s.banks[code] == nil {
		return nil, 0, false
	}
	page, total := placePage(s.branches, code, place, offset, limit, s.branches.branch)
	return page, total, true
}

// ATMs is Branches for the bank's ATMs.
func (ix *Index) ATMs(code, place string, offset, limit int) ([]obx.ATM, int, bool) {
	s := ix.load()
	if s.banks[code] == nil {
		return nil, 0, false
	}
	page, total := placePage(s.atms, code, place, offset, limit, s.atms.atm)
	return page, total, true
}

// placePage pages the places of bank code in g, in catalog order, keeping
// those with code place if it is set, and rebuilds the page's places only.
func placePage[T any](g *grid, code, place string, offset, limit int, rebuild func(*flatPlace) *T) ([]T, int) {
	var page []T
	total := 0
	for _, i := range g.catalogPlaces(code) {
		p := &g.places[i]
		if place != "" && g.s(p.code) != place {
			continue
		}
		if total >= offset && total-offset < limit {
			page = append(page, *rebuild(p))
		}
		total++
	}
	return page, total
}

// Products returns the data in service for a bank as Bank does, but
// without its branches and ATMs, and without allocating: the catalog is the
// index's own and must not be modified.
func (ix *Index) Products(code string) (*obx.BankProducts, bool) {
	b := ix.load().banks[code]
	if b == nil {
		return nil, false
	}
	return &b.BankProducts, true
}

// Banks returns the codes of every bank with data in service, sorted.
func (ix *Index) Banks() []string { return slices.Clone(ix.load().codes) }

// selected returns the banks of s that codes names (all if empty), in code
// order, and the newest publication time among them.
func (s *snapshot) selected(codes []string) ([]*bank, time.Time) {
	var out []*bank
	var mod time.Time
	for _, code := range s.codes {
		if len(codes) > 0 && !slices.Contains(codes, code) {
			continue
		}
		b := s.banks[code]
		out = append(out, b)
		if m := b.Modified(); m.After(mod) {
			mod = m
		}
	}
	return out, mod
}
