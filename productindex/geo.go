package productindex

import (
	"math"
	"slices"

	"github.com/obxhub/obx"
)

// EarthRadiusM is the mean Earth radius (IUGG) used for great-circle distances.
const EarthRadiusM = 6_371_008.8

// DistanceM returns the great-circle (haversine) distance between a and b in
// metres. Over a city the spherical model errs by well under 0.5%.
func DistanceM(a, b obx.Location) float64 {
	const rad = math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	dφ, dλ := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * EarthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// place is a branch or ATM in a grid.
type place struct {
	bank     *bank
	branch   *obx.Branch
	atm      *obx.ATM
	loc      obx.Location
	hours    *obx.OpeningHours
	services []string
	access   []string
}

// cellDeg is the side of a grid cell in degrees: about 1.1 km of latitude
// and 0.9 km of longitude in Korea. The ten nearest ATMs in a city are
// found in the query's cell and the eight around it; a 100 km radius with a
// filter that matches nothing visits about 50,000 cells, a millisecond.
const cellDeg = 0.01

// grid is a uniform latitude/longitude grid of places: the simplest spatial
// index that answers k-nearest queries by searching rings of cells outwards
// from the query's cell, and is rebuilt from scratch in milliseconds. The
// places of each cell are contiguous in places, so a query touches few
// cache lines. Longitudes do not wrap at ±180°: no participating bank has a
// place near the antimeridian.
type grid struct {
	places []place
	cells  map[int64][2]int32 // cell key → [start, end) in places
}

func cellOf(l obx.Location) (row, col int64) {
	return int64(math.Floor((l.Lat + 90) / cellDeg)), int64(math.Floor((l.Lon + 180) / cellDeg))
}

func cellKey(row, col int64) int64 { return row<<32 | col }

func newGrid(ps []place) *grid {
	keys := make([]int64, len(ps))
	for i := range ps {
		keys[i] = cellKey(cellOf(ps[i].loc))
	}
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case keys[a] < keys[b]:
			return -1
		case keys[a] > keys[b]:
			return 1
		}
		return a - b // keep catalog order within a cell
	})
	g := &grid{places: make([]place, len(ps)), cells: map[int64][2]int32{}}
	for i, o := range order {
		g.places[i] = ps[o]
		k := keys[o]
		span, ok := g.cells[k]
		if !ok {
			span[0] = int32(i)
		}
		span[1] = int32(i + 1)
		g.cells[k] = span
	}
	return g
}

// hit is a place within the radius, with its distance, and whether it
// passes the query's filters: 0 not yet known, 1 yes, 2 no.
type hit struct {
	p    *place
	d    float64
	keep int8
}

// nearest returns the k places nearest to from within radius that keep
// passes, nearest first. It searches ring r of cells (those r cells away
// from from's cell) in turn, and stops once k places that pass are no
// farther than any place in ring r+1 can be, or ring r+1 lies wholly beyond
// the radius. The filters (services, opening hours) cost more than a
// distance, so they run lazily, nearest first, only on places that could
// make the answer.
func (g *grid) nearest(from obx.Location, radius float64, k int, keep func(*place) bool) []hit {
	if k <= 0 || len(g.places) == 0 {
		return nil
	}
	row0, col0 := cellOf(from)
	var hits []hit
	// A latitude gap alone is a lower bound on the distance: most places
	// beyond the radius are rejected without trigonometry.
	maxDLat := radius / EarthRadiusM * 180 / math.Pi
	visit := func(row, col int64) {
		span, ok := g.cells[cellKey(row, col)]
		if !ok {
			return
		}
		for i := span[0]; i < span[1]; i++ {
			p := &g.places[i]
			if math.Abs(p.loc.Lat-from.Lat) > maxDLat {
				continue
			}
			if d := DistanceM(from, p.loc); d <= radius {
				hits = append(hits, hit{p: p, d: d})
			}
		}
	}
	byDistance := func(a, b hit) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return compareCodes(a.p, b.p)
	}
	// kept counts, nearest first, the hits no farther than bound that pass,
	// up to k.
	sorted := 0 // hits[:sorted] is in order
	kept := func(bound float64) int {
		if sorted != len(hits) {
			slices.SortFunc(hits, byDistance)
			sorted = len(hits)
		}
		n := 0
		for i := range hits {
			h := &hits[i]
			if h.d > bound || n == k {
				break
			}
			if h.keep == 0 {
				h.keep = 2
				if keep(h.p) {
					h.keep = 1
				}
			}
			if h.keep == 1 {
				n++
			}
		}
		return n
	}
	// No place lies beyond the grid's rings that cover the whole Earth.
	maxRing := int64(math.Ceil(360 / cellDeg))
	for r := int64(0); r <= maxRing; r++ {
		if r == 0 {
			visit(row0, col0)
		} else {
			for c := col0 - r; c <= col0+r; c++ {
				visit(row0-r, c)
				visit(row0+r, c)
			}
			for rw := row0 - r + 1; rw <= row0+r-1; rw++ {
				visit(rw, col0-r)
				visit(rw, col0+r)
			}
		}
		bound := ringBound(from, r+1)
		if bound > radius {
			break
		}
		if len(hits) >= k && kept(bound) >= k {
			break
		}
	}
	kept(math.Inf(1))
	out := hits[:0]
	for _, h := range hits {
		if h.keep == 1 {
			out = append(out, h)
		}
	}
	return out
}

// ringBound is a lower bound on the distance from from to any place in ring
// r or beyond: such a place is at least (r-1) whole cells away in latitude
// or in longitude. A latitude gap of Δ is at least R·Δ; a longitude gap of Δ
// is at least the distance to that meridian's great circle, R·asin(cos φ·sin Δ).
func ringBound(from obx.Location, r int64) float64 {
	if r <= 1 {
		return 0
	}
	gap := float64(r-1) * cellDeg * math.Pi / 180
	lat := EarthRadiusM * gap
	if gap >= math.Pi/2 {
		return lat
	}
	lon := EarthRadiusM * math.Asin(math.Cos(from.Lat*math.Pi/180)*math.Sin(gap))
	return math.Min(lat, lon)
}

// compareCodes orders places at equal distance by bank, then code, so that
// results and pages are deterministic.
func compareCodes(a, b *place) int {
	if a.bank != b.bank {
		if a.bank.Catalog.BankCode < b.bank.Catalog.BankCode {
			return -1
		}
		return 1
	}
	ac, bc := a.code(), b.code()
	switch {
	case ac < bc:
		return -1
	case ac > bc:
		return 1
	}
	return 0
}

func (p *place) code() string {
	if p.branch != nil {
		return p.branch.Code
	}
	return p.atm.Code
}

// MaxRadiusM is the largest search radius the index accepts: beyond it,
// "near" means nothing and the search would scan the country.
const MaxRadiusM = 100_000

// Nearby answers a NearbyQuery. Callers validate the query; Nearby clamps
// what it must (radius, limit) rather than fail.
func (ix *Index) Nearby(q obx.NearbyQuery) obx.NearbyResult {
	s := ix.load()
	g := s.atms
	if q.Kind == obx.PlaceBranch {
		g = s.branches
	}
	radius := math.Min(q.RadiusM, MaxRadiusM)
	// Places point at the bank as it was when the grid was built (a rate
	// board replaces the bank but not the grid), so banks are matched by code.
	banks, mod := s.selected(q.Banks)
	var allowed map[string]bool
	if len(q.Banks) > 0 {
		allowed = make(map[string]bool, len(banks))
		for _, b := range banks {
			allowed[b.Catalog.BankCode] = true
		}
	}
	// The query's time read on each bank's calendar, once per bank.
	var local map[*bank]obx.LocalTime
	if !q.OpenAt.IsZero() {
		local = map[*bank]obx.LocalTime{}
	}
	keep := func(p *place) bool {
		if allowed != nil && !allowed[p.bank.Catalog.BankCode] || !containsAll(p.services, q.Services) || !containsAll(p.access, q.Access) {
			return false
		}
		if local == nil {
			return true
		}
		lt, ok := local[p.bank]
		if !ok {
			lt = obx.NewLocalTime(q.OpenAt, p.bank.Location, p.bank.holidays)
			local[p.bank] = lt
		}
		return p.hours.OpenDuring(lt)
	}
	hits := g.nearest(q.From, radius, q.Offset+q.Limit+1, keep)
	res := obx.NearbyResult{Modified: mod}
	if len(hits) > q.Offset+q.Limit {
		res.More = true
		hits = hits[:q.Offset+q.Limit]
	}
	if q.Offset < len(hits) {
		for _, h := range hits[q.Offset:] {
			res.Places = append(res.Places, obx.Place{
				BankCode: h.p.bank.Catalog.BankCode, BankName: h.p.bank.Catalog.BankName,
				Branch: h.p.branch, ATM: h.p.atm, DistanceM: h.d,
			})
		}
	}
	return res
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
