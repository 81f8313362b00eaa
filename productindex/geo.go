package productindex

import (
	"math"
	"slices"
	"strings"

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

// cellDeg is the side of a grid cell in degrees: about 1.1 km of latitude
// and 0.9 km of longitude in Korea. The ten nearest ATMs in a city are
// found in the query's cell and the eight around it; a 100 km radius with a
// filter that matches nothing visits about 50,000 cells, a millisecond.
const cellDeg = 0.01

// grid is a uniform latitude/longitude grid of places: the simplest spatial
// index that answers k-nearest queries by searching rings of cells outwards
// from the query's cell, and is rebuilt from scratch in milliseconds. The
// places of each cell are contiguous in the table, so a query touches few
// cache lines, and neither places nor cells hold pointers (see placeTable).
// Longitudes do not wrap at ±180°: no participating bank has a place near
// the antimeridian.
type grid struct {
	placeTable                    // places sorted by cell
	cells      map[int64][2]int32 // cell key → [start, end) in places
	// byCatalog lists the places in bank then catalog order, and bankPlaces
	// is each bank's range of it, so that a bank's catalog can be rebuilt.
	byCatalog  []uint32
	bankPlaces []span
}

func cellOf(l obx.Location) (row, col int64) {
	return int64(math.Floor((l.Lat + 90) / cellDeg)), int64(math.Floor((l.Lon + 180) / cellDeg))
}

func cellKey(row, col int64) int64 { return row<<32 | col }

// newGrid sorts the places of t, which are in bank then catalog order, by
// cell, keeping catalog order within a cell.
func newGrid(t placeTable) *grid {
	ps := t.places
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
	g := &grid{placeTable: t, cells: map[int64][2]int32{}, byCatalog: make([]uint32, len(ps)), bankPlaces: make([]span, len(t.banks))}
	g.places = make([]flatPlace, len(ps))
	for i, o := range order {
		g.places[i] = ps[o]
		g.byCatalog[o] = uint32(i)
		k := keys[o]
		span, ok := g.cells[k]
		if !ok {
			span[0] = int32(i)
		}
		span[1] = int32(i + 1)
		g.cells[k] = span
	}
	for i := range ps {
		sp := &g.bankPlaces[ps[i].bank]
		if sp.len() == 0 {
			sp.start = uint32(i)
		}
		sp.end = uint32(i + 1)
	}
	return g
}

// bankIndex returns the index in g.banks of the bank with code, or -1.
func (g *grid) bankIndex(code string) int {
	i, ok := slices.BinarySearchFunc(g.banks, code, func(b *bank, code string) int { return strings.Compare(b.Catalog.BankCode, code) })
	if !ok {
		return -1
	}
	return i
}

// catalogPlaces returns the places of the bank with code, in catalog order.
func (g *grid) catalogPlaces(code string) []uint32 {
	i := g.bankIndex(code)
	if i < 0 {
		return nil
	}
	sp := g.bankPlaces[i]
	return g.byCatalog[sp.start:sp.end]
}

// hit is a place within the radius, with its distance, and whether it
// passes the query's filters: 0 not yet known, 1 yes, 2 no.
type hit struct {
	p    *flatPlace
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
func (g *grid) nearest(from obx.Location, radius float64, k int, keep func(*flatPlace) bool) []hit {
	if k <= 0 || len(g.places) == 0 {
		return nil
	}
	row0, col0 := cellOf(from)
	hits := make([]hit, 0, 4*k) // the first rings usually hold the answer
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
		return g.compareCodes(a.p, b.p)
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
func (g *grid) compareCodes(a, b *flatPlace) int {
	if a.bank != b.bank {
		return strings.Compare(g.banks[a.bank].Catalog.BankCode, g.banks[b.bank].Catalog.BankCode)
	}
	return strings.Compare(g.s(a.code), g.s(b.code))
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
	// The grid's banks are the banks as they were when it was built (a rate
	// board replaces the bank but not the grid), so banks are matched by code.
	_, mod := s.selected(q.Banks)
	var allowed []bool
	if len(q.Banks) > 0 {
		allowed = make([]bool, len(g.banks))
		for i, b := range g.banks {
			allowed[i] = slices.Contains(q.Banks, b.Catalog.BankCode)
		}
	}
	// The query's time read on each bank's calendar, once per bank.
	var local []obx.LocalTime
	var read []bool
	if !q.OpenAt.IsZero() {
		local, read = make([]obx.LocalTime, len(g.banks)), make([]bool, len(g.banks))
	}
	keep := func(p *flatPlace) bool {
		if allowed != nil && !allowed[p.bank] || !g.containsAll(p.services, q.Services) || !g.containsAll(p.access, q.Access) {
			return false
		}
		if local == nil {
			return true
		}
		if !read[p.bank] {
			b := g.banks[p.bank]
			local[p.bank], read[p.bank] = obx.NewLocalTime(q.OpenAt, b.Location, b.holidays), true
		}
		return g.openDuring(p, local[p.bank])
	}
	hits := g.nearest(q.From, radius, q.Offset+q.Limit+1, keep)
	res := obx.NearbyResult{Modified: mod}
	if len(hits) > q.Offset+q.Limit {
		res.More = true
		hits = hits[:q.Offset+q.Limit]
	}
	if q.Offset < len(hits) {
		res.Places = make([]obx.Place, 0, len(hits)-q.Offset)
		for _, h := range hits[q.Offset:] {
			c := g.banks[h.p.bank].Catalog
			pl := obx.Place{BankCode: c.BankCode, BankName: c.BankName, DistanceM: h.d}
			if q.Kind == obx.PlaceBranch {
				pl.Branch = g.branch(h.p)
			} else {
				pl.ATM = g.atm(h.p)
			}
			res.Places = append(res.Places, pl)
		}
	}
	return res
}
