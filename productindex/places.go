package productindex

import (
	"strings"

	"github.com/obxhub/obx"
)

// The branches and ATMs are almost all of the index: 100,000 places of 50
// banks, each with a dozen strings, three string lists and opening hours.
// Held as obx.Branch and obx.ATM values they are millions of pointers, and
// every garbage collection cycle, which the API's own allocations trigger
// every few thousand requests, marks them all: on a small machine that mark
// phase was the tail of the hub's latency. So the index keeps places in a
// placeTable without a single pointer per place: strings are ranges of one
// arena string, lists and periods ranges of shared pointer-free slices. The
// collector then scans a handful of objects, whatever the number of places,
// and a query reads places without allocating; only the places of an answer
// are rebuilt as obx values.

// str is a string of a table's arena: arena[off : off+n].
type str struct{ off, n uint32 }

// span is the range [start, end) of one of a table's slices.
type span struct{ start, end uint32 }

func (s span) len() int { return int(s.end - s.start) }

// flatPlace is a branch or ATM without pointers.
type flatPlace struct {
	loc  obx.Location
	bank uint16 // index in placeTable.banks

	code, name, place, phone, network str
	city, district, line, zipCode     str

	services, currencies, access span // in placeTable.lists

	always, closedOnHolidays bool
	weekly                   span // in placeTable.periods
	exceptions               span // in placeTable.exceptions
}

// flatException is an obx.HoursException without pointers.
type flatException struct {
	date, reason str
	closed       bool
	periods      span // in placeTable.periods
}

// placeTable holds places of one kind. It is built once and never changes.
type placeTable struct {
	arena      string // every distinct string of the places, once
	places     []flatPlace
	lists      []str
	periods    []obx.Period // pointer-free already
	exceptions []flatException
	// banks are the banks of the places, as they were when the table was
	// built: the grid is shared by later snapshots with newer rate boards,
	// and a place needs only its bank's code, name, zone and holidays.
	banks []*bank
}

// s returns the string of r.
func (t *placeTable) s(r str) string { return t.arena[r.off : r.off+r.n] }

// tableBuilder accumulates places into a placeTable, interning strings:
// services, cities, districts and networks repeat across thousands of places.
type tableBuilder struct {
	t      placeTable
	arena  strings.Builder
	intern map[string]str
}

func newTableBuilder() *tableBuilder { return &tableBuilder{intern: map[string]str{}} }

func (b *tableBuilder) str(s string) str {
	if r, ok := b.intern[s]; ok {
		return r
	}
	r := str{off: uint32(b.arena.Len()), n: uint32(len(s))}
	b.arena.WriteString(s)
	b.intern[s] = r
	return r
}

func (b *tableBuilder) list(ss []string) span {
	sp := span{start: uint32(len(b.t.lists))}
	for _, s := range ss {
		b.t.lists = append(b.t.lists, b.str(s))
	}
	sp.end = uint32(len(b.t.lists))
	return sp
}

func (b *tableBuilder) periods(ps []obx.Period) span {
	sp := span{start: uint32(len(b.t.periods))}
	b.t.periods = append(b.t.periods, ps...)
	sp.end = uint32(len(b.t.periods))
	return sp
}

func (b *tableBuilder) hours(p *flatPlace, h *obx.OpeningHours) {
	p.always, p.closedOnHolidays = h.Always, h.ClosedOnHolidays
	p.weekly = b.periods(h.Weekly)
	p.exceptions.start = uint32(len(b.t.exceptions))
	for _, e := range h.Exceptions {
		b.t.exceptions = append(b.t.exceptions, flatException{date: b.str(e.Date), reason: b.str(e.Reason),
			closed: e.Closed, periods: b.periods(e.Periods)})
	}
	p.exceptions.end = uint32(len(b.t.exceptions))
}

func (b *tableBuilder) address(p *flatPlace, a obx.Address) {
	p.city, p.district, p.line, p.zipCode = b.str(a.City), b.str(a.District), b.str(a.Line), b.str(a.ZipCode)
}

// addBank starts the places of bk; addBranch and addATM then append to it.
func (b *tableBuilder) addBank(bk *bank) { b.t.banks = append(b.t.banks, bk) }

func (b *tableBuilder) addBranch(br *obx.Branch) {
	p := flatPlace{loc: br.Location, bank: uint16(len(b.t.banks) - 1), code: b.str(br.Code), name: b.str(br.Name),
		phone: b.str(br.Phone), services: b.list(br.Services), access: b.list(br.Accessibility)}
	b.address(&p, br.Address)
	b.hours(&p, &br.Hours)
	b.t.places = append(b.t.places, p)
}

func (b *tableBuilder) addATM(a *obx.ATM) {
	p := flatPlace{loc: a.Location, bank: uint16(len(b.t.banks) - 1), code: b.str(a.Code), name: b.str(a.Name),
		place: b.str(a.Place), network: b.str(a.Network), services: b.list(a.Services),
		currencies: b.list(a.Currencies), access: b.list(a.Accessibility)}
	b.address(&p, a.Address)
	b.hours(&p, &a.Hours)
	b.t.places = append(b.t.places, p)
}

// addFrom appends p of table t, as addBranch or addATM appended it there.
func (b *tableBuilder) addFrom(t *placeTable, p *flatPlace) {
	q := *p
	q.bank = uint16(len(b.t.banks) - 1)
	for _, r := range []*str{&q.code, &q.name, &q.place, &q.phone, &q.network, &q.city, &q.district, &q.line, &q.zipCode} {
		*r = b.str(t.s(*r))
	}
	relist := func(sp span) span {
		out := span{start: uint32(len(b.t.lists))}
		for _, r := range t.lists[sp.start:sp.end] {
			b.t.lists = append(b.t.lists, b.str(t.s(r)))
		}
		out.end = uint32(len(b.t.lists))
		return out
	}
	q.services, q.currencies, q.access = relist(p.services), relist(p.currencies), relist(p.access)
	q.weekly = b.periods(t.periods[p.weekly.start:p.weekly.end])
	q.exceptions.start = uint32(len(b.t.exceptions))
	for _, e := range t.exceptions[p.exceptions.start:p.exceptions.end] {
		b.t.exceptions = append(b.t.exceptions, flatException{date: b.str(t.s(e.date)), reason: b.str(t.s(e.reason)),
			closed: e.closed, periods: b.periods(t.periods[e.periods.start:e.periods.end])})
	}
	q.exceptions.end = uint32(len(b.t.exceptions))
	b.t.places = append(b.t.places, q)
}

// table returns the built table, its slices trimmed to their length.
func (b *tableBuilder) table() placeTable {
	t := b.t
	t.arena = b.arena.String()
	t.places = clip(t.places)
	t.lists, t.periods, t.exceptions = clip(t.lists), clip(t.periods), clip(t.exceptions)
	return t
}

func clip[T any](s []T) []T { return append([]T(nil), s...) }

// strings returns the list sp as new strings (sharing the arena's bytes).
func (t *placeTable) strings(sp span) []string {
	if sp.len() == 0 {
		return nil
	}
	out := make([]string, sp.len())
	for i, r := range t.lists[sp.start:sp.end] {
		out[i] = t.s(r)
	}
	return out
}

// containsAll reports whether the list sp holds every string of want,
// without allocating.
func (t *placeTable) containsAll(sp span, want []string) bool {
next:
	for _, w := range want {
		for _, r := range t.lists[sp.start:sp.end] {
			if t.s(r) == w {
				continue next
			}
		}
		return false
	}
	return true
}

func (t *placeTable) periodList(sp span) []obx.Period {
	if sp.len() == 0 {
		return nil
	}
	return append([]obx.Period(nil), t.periods[sp.start:sp.end]...)
}

// hours rebuilds the opening hours of p.
func (t *placeTable) hours(p *flatPlace) obx.OpeningHours {
	h := obx.OpeningHours{Always: p.always, ClosedOnHolidays: p.closedOnHolidays, Weekly: t.periodList(p.weekly)}
	for _, e := range t.exceptions[p.exceptions.start:p.exceptions.end] {
		h.Exceptions = append(h.Exceptions, obx.HoursException{Date: t.s(e.date), Closed: e.closed,
			Periods: t.periodList(e.periods), Reason: t.s(e.reason)})
	}
	return h
}

// openDuring is obx.OpeningHours.OpenDuring on a flat place, without
// allocating: only the exceptions dated today or yesterday can matter, so
// only those are rebuilt, on the stack, and the weekly periods are the
// table's own.
func (t *placeTable) openDuring(p *flatPlace, l obx.LocalTime) bool {
	var buf [2]obx.HoursException
	h := obx.OpeningHours{Always: p.always, ClosedOnHolidays: p.closedOnHolidays, Weekly: t.periods[p.weekly.start:p.weekly.end:p.weekly.end]}
	n, today, yesterday := 0, false, false // the first exception of a date is the one that counts
	for _, e := range t.exceptions[p.exceptions.start:p.exceptions.end] {
		d := t.s(e.date)
		switch {
		case d == l.Today && !today:
			today = true
		case d == l.Yesterday && !yesterday:
			yesterday = true
		default:
			continue
		}
		buf[n] = obx.HoursException{Date: d, Closed: e.closed, Periods: t.periods[e.periods.start:e.periods.end:e.periods.end]}
		n++
	}
	h.Exceptions = buf[:n]
	return h.OpenDuring(l)
}

// branch rebuilds the branch p.
func (t *placeTable) branch(p *flatPlace) *obx.Branch {
	return &obx.Branch{Code: t.s(p.code), Name: t.s(p.name), Address: t.address(p), Location: p.loc, Phone: t.s(p.phone),
		Hours: t.hours(p), Services: t.strings(p.services), Accessibility: t.strings(p.access)}
}

// atm rebuilds the ATM p.
func (t *placeTable) atm(p *flatPlace) *obx.ATM {
	return &obx.ATM{Code: t.s(p.code), Name: t.s(p.name), Place: t.s(p.place), Address: t.address(p), Location: p.loc,
		Hours: t.hours(p), Services: t.strings(p.services), Currencies: t.strings(p.currencies),
		Accessibility: t.strings(p.access), Network: t.s(p.network)}
}

func (t *placeTable) address(p *flatPlace) obx.Address {
	return obx.Address{City: t.s(p.city), District: t.s(p.district), Line: t.s(p.line), ZipCode: t.s(p.zipCode)}
}
