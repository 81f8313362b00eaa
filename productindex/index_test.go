package productindex_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/productindex"
)

var (
	seoulCityHall = obx.Location{Lat: 37.5663, Lon: 126.9779}
	busanStation  = obx.Location{Lat: 35.1151, Lon: 129.0422}
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		a, b      obx.Location
		want, tol float64 // metres
	}{
		// Often quoted as "about 325 km"; for these coordinates the great
		// circle is 329.3 km (an equirectangular estimate gives 329.3 km too).
		{"Seoul City Hall to Busan Station", seoulCityHall, busanStation, 329_300, 1_000},
		{"Seoul City Hall to Gangnam Station", seoulCityHall, obx.Location{Lat: 37.4979, Lon: 127.0276}, 8_800, 300},
		{"one degree of latitude", obx.Location{Lat: 37, Lon: 127}, obx.Location{Lat: 38, Lon: 127}, 111_195, 10},
		{"same point", busanStation, busanStation, 0, 0.001},
	} {
		if got := productindex.DistanceM(tc.a, tc.b); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: %.0f m, want %.0f ± %.0f", tc.name, got, tc.want, tc.tol)
		}
	}
}

// demoIndex holds n demo banks' catalogs and rates.
func demoIndex(t testing.TB, n int, opt banksim.CatalogOptions) *productindex.Index {
	t.Helper()
	ix := productindex.New()
	var cs []*obx.Catalog
	for i := range n {
		code := fmt.Sprintf("%03d", 100+i)
		if i < len(banksim.DemoBanks) {
			code = banksim.DemoBanks[i].Code
		}
		c := banksim.DemoCatalog(code, "은행"+code, 1, opt)
		c.Version, c.PublishedAt = 1, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		cs = append(cs, c)
		ix.SetRates(banksim.DemoRates(code, 1, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)))
	}
	ix.SetCatalogs(cs...)
	return ix
}

// bruteNearby is the reference: every place of every bank, filtered, sorted.
func bruteNearby(ix *productindex.Index, q obx.NearbyQuery) []string {
	type cand struct {
		key string
		d   float64
	}
	var cs []cand
	for _, code := range ix.Banks() {
		b, _ := ix.Bank(code)
		hol := obx.NewHolidaySet(b.Catalog.Holidays)
		check := func(key string, l obx.Location, h *obx.OpeningHours, services []string) {
			d := productindex.DistanceM(q.From, l)
			if d > q.RadiusM {
				return
			}
			for _, s := range q.Services {
				if !slices.Contains(services, s) {
					return
				}
			}
			if !q.OpenAt.IsZero() && !h.OpenAt(q.OpenAt, b.Location, hol) {
				return
			}
			cs = append(cs, cand{code + "/" + key, d})
		}
		if q.Kind == obx.PlaceATM {
			for _, a := range b.Catalog.ATMs {
				check(a.Code, a.Location, &a.Hours, a.Services)
			}
		} else {
			for _, br := range b.Catalog.Branches {
				check(br.Code, br.Location, &br.Hours, br.Services)
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].key < cs[j].key
	})
	var out []string
	for _, c := range cs[:min(len(cs), q.Offset+q.Limit)] {
		out = append(out, c.key)
	}
	if q.Offset >= len(out) {
		return nil
	}
	return out[q.Offset:]
}

func keys(r obx.NearbyResult) []string {
	var out []string
	for _, p := range r.Places {
		code := ""
		if p.ATM != nil {
			code = p.ATM.Code
		} else {
			code = p.Branch.Code
		}
		out = append(out, p.BankCode+"/"+code)
	}
	return out
}

func TestNearbyMatchesBruteForce(t *testing.T) {
	ix := demoIndex(t, 6, banksim.CatalogOptions{})
	kst := time.FixedZone("KST", 9*3600)
	for _, q := range []obx.NearbyQuery{
		{Kind: obx.PlaceATM, From: seoulCityHall, RadiusM: 2_000, Limit: 10},
		{Kind: obx.PlaceATM, From: seoulCityHall, RadiusM: 100_000, Limit: 20, Offset: 40},
		{Kind: obx.PlaceBranch, From: busanStation, RadiusM: 10_000, Limit: 15, Services: []string{"fx"}},
		{Kind: obx.PlaceATM, From: busanStation, RadiusM: 50_000, Limit: 10, OpenAt: time.Date(2026, 3, 4, 1, 30, 0, 0, kst)},
		{Kind: obx.PlaceBranch, From: seoulCityHall, RadiusM: 30_000, Limit: 5, OpenAt: time.Date(2026, 3, 7, 11, 0, 0, 0, kst)},  // Saturday
		{Kind: obx.PlaceBranch, From: seoulCityHall, RadiusM: 30_000, Limit: 5, OpenAt: time.Date(2026, 10, 9, 11, 0, 0, 0, kst)}, // 한글날
		{Kind: obx.PlaceATM, From: obx.Location{Lat: 33.5, Lon: 126.5}, RadiusM: 50_000, Limit: 5},                                // Jeju: none
		{Kind: obx.PlaceATM, From: obx.Location{Lat: 36.35, Lon: 127.38}, RadiusM: 100_000, Limit: 30, Services: []string{"fx", "passbook"}},
	} {
		name := fmt.Sprintf("%s near %.2f,%.2f r=%.0f open=%v services=%v", q.Kind, q.From.Lat, q.From.Lon, q.RadiusM, !q.OpenAt.IsZero(), q.Services)
		got := ix.Nearby(q)
		want := bruteNearby(ix, q)
		if !slices.Equal(keys(got), want) {
			t.Errorf("%s:\n got %v\nwant %v", name, keys(got), want)
		}
		for i := 1; i < len(got.Places); i++ {
			if got.Places[i].DistanceM < got.Places[i-1].DistanceM {
				t.Errorf("%s: not sorted by distance at %d", name, i)
			}
		}
	}
	// A holiday closes every branch that follows holidays; on 2026-10-09 the
	// demo branches with an exception may still open, none without.
	res := ix.Nearby(obx.NearbyQuery{Kind: obx.PlaceBranch, From: seoulCityHall, RadiusM: 100_000, Limit: 1000,
		OpenAt: time.Date(2026, 10, 9, 11, 0, 0, 0, kst)})
	if len(res.Places) != 0 {
		t.Errorf("%d branches open on 한글날", len(res.Places))
	}
}

func TestNearbyAcrossMidnight(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	ix := productindex.New()
	var night []obx.Period
	for d := time.Sunday; d <= time.Saturday; d++ {
		night = append(night, obx.Period{Day: d, Open: 18 * 60, Close: 2 * 60})
	}
	c := &obx.Catalog{BankCode: "088", BankName: "신한은행", Version: 1,
		Holidays: []obx.Holiday{{Date: "2026-03-03", Name: "임시공휴일"}},
		ATMs: []obx.ATM{
			{Code: "NIGHT", Name: "홍대 ATM", Location: obx.Location{Lat: 37.5563, Lon: 126.9236}, Hours: obx.OpeningHours{Weekly: night}},
			{Code: "OFFICE", Name: "시청 ATM", Location: seoulCityHall, Hours: obx.OpeningHours{ClosedOnHolidays: true,
				Weekly: []obx.Period{{Day: time.Tuesday, Open: 8 * 60, Close: 20 * 60}, {Day: time.Wednesday, Open: 8 * 60, Close: 20 * 60}}}},
		}}
	ix.SetCatalogs(c)
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2026, 3, 4, 1, 59, 0, 0, kst), []string{"088/NIGHT"}},                    // Wednesday 01:59: Tuesday's night
		{time.Date(2026, 3, 4, 2, 0, 0, 0, kst), nil},                                       // closed at 02:00
		{time.Date(2026, 3, 3, 12, 0, 0, 0, kst), nil},                                      // Tuesday, a holiday: the office ATM closes
		{time.Date(2026, 3, 4, 12, 0, 0, 0, kst), []string{"088/OFFICE"}},                   // Wednesday noon
		{time.Date(2026, 3, 4, 19, 0, 0, 0, kst), []string{"088/OFFICE", "088/NIGHT"}},      // both
		{time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), []string{"088/OFFICE", "088/NIGHT"}}, // 19:00 KST, given in UTC
	} {
		got := keys(ix.Nearby(obx.NearbyQuery{Kind: obx.PlaceATM, From: seoulCityHall, RadiusM: 10_000, Limit: 10, OpenAt: tc.at}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("open at %v: %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	ix := demoIndex(t, 6, banksim.CatalogOptions{Branches: 5, ATMs: 5})
	res := ix.Compare(obx.CompareQuery{Family: obx.FamilyDeposits, Kind: obx.DepositTime, Currency: "USD",
		TermMonths: 12, Amount: 10_000_00, MaxAnnualFee: -1, Limit: 100})
	if res.Total != 6 || len(res.Matches) != 6 {
		t.Fatalf("USD 12-month time deposits: %d (%d)", res.Total, len(res.Matches))
	}
	for i, m := range res.Matches {
		if m.Deposit.Currency != "USD" || m.Tier.TermMonths != 12 || !m.Tier.Covers(10_000_00) {
			t.Errorf("match %d: %+v %+v", i, m.Deposit.Code, m.Tier)
		}
		if i > 0 && m.Tier.Rate > res.Matches[i-1].Tier.Rate {
			t.Errorf("not sorted by rate at %d", i)
		}
	}
	// The best rate is the maximum over every bank's applicable tier.
	var best obx.Decimal
	for _, code := range ix.Banks() {
		b, _ := ix.Bank(code)
		for _, d := range b.Catalog.Deposits {
			if d.Kind == obx.DepositTime && d.Currency == "USD" {
				if tr, ok := d.RateFor(12, 10_000_00); ok && tr.Rate > best {
					best = tr.Rate
				}
			}
		}
	}
	if res.Matches[0].Tier.Rate != best {
		t.Errorf("best rate %s, want %s", res.Matches[0].Tier.Rate, best)
	}

	cards := ix.Compare(obx.CompareQuery{Family: obx.FamilyCreditCards, MaxAnnualFee: 15_000, Limit: 5, Offset: 2})
	all := ix.Compare(obx.CompareQuery{Family: obx.FamilyCreditCards, MaxAnnualFee: 15_000, Limit: 100})
	if cards.Total != all.Total || len(cards.Matches) != 5 || cards.Matches[0].Loan != all.Matches[2].Loan {
		t.Errorf("paging: total %d/%d, page %d", cards.Total, all.Total, len(cards.Matches))
	}
	for i, m := range all.Matches {
		if m.Loan.AnnualFee > 15_000 || i > 0 && m.Loan.AnnualFee < all.Matches[i-1].Loan.AnnualFee {
			t.Errorf("card %d: fee %d", i, m.Loan.AnnualFee)
		}
	}
	seniors := ix.Compare(obx.CompareQuery{Family: obx.FamilyDeposits, Eligibility: "senior", MaxAnnualFee: -1, Limit: 100})
	for _, m := range seniors.Matches {
		if !slices.Contains(m.Deposit.Eligibility, "senior") {
			t.Errorf("deposit %s is not for seniors", m.Deposit.Code)
		}
	}
	if seniors.Total == 0 {
		t.Error("no deposit for seniors")
	}
	funds := ix.Compare(obx.CompareQuery{Family: obx.FamilyFunds, MaxRiskLevel: 2, Banks: []string{"088"}, MaxAnnualFee: -1, Limit: 100})
	for _, m := range funds.Matches {
		if m.Fund.RiskLevel > 2 || m.BankCode != "088" {
			t.Errorf("fund %s of %s risk %d", m.Fund.Code, m.BankCode, m.Fund.RiskLevel)
		}
	}
}

func TestBestRates(t *testing.T) {
	ix := demoIndex(t, 6, banksim.CatalogOptions{Branches: 1, ATMs: 1})
	res, _ := ix.BestRates(obx.BestRateQuery{Currencies: []string{"JPY", "USD"}, Type: obx.RateCash, Side: obx.SideSell})
	if len(res) != 2 || res[0].Currency != "JPY" || len(res[0].Quotes) != 6 {
		t.Fatalf("best rates: %+v", res)
	}
	for _, br := range res {
		for i, q := range br.Quotes {
			b, _ := ix.Bank(q.BankCode)
			r, _ := b.Rates.Rate(br.Currency)
			if q.Rate != r.CashSell || q.QuotedAt.IsZero() {
				t.Errorf("%s %s: quote %s, board %s", br.Currency, q.BankCode, q.Rate, r.CashSell)
			}
			if i > 0 && q.Rate < br.Quotes[i-1].Rate {
				t.Errorf("%s: sell rates not ascending at %d", br.Currency, i)
			}
		}
	}
	buy, _ := ix.BestRates(obx.BestRateQuery{Currencies: []string{"USD"}, Type: obx.RateSpot, Side: obx.SideBuy})
	for i := 1; i < len(buy[0].Quotes); i++ {
		if buy[0].Quotes[i].Rate > buy[0].Quotes[i-1].Rate {
			t.Errorf("buy rates not descending at %d", i)
		}
	}
}

func TestSnapshotsAreImmutable(t *testing.T) {
	ix := demoIndex(t, 2, banksim.CatalogOptions{Branches: 3, ATMs: 3})
	before, _ := ix.Bank("004")
	c := banksim.DemoCatalog("004", "", 2, banksim.CatalogOptions{Branches: 3, ATMs: 3})
	c.Version = 2
	ix.SetCatalogs(c)
	after, _ := ix.Bank("004")
	if before.Catalog.Version != 1 || after.Catalog.Version != 2 || before.Rates != after.Rates {
		t.Errorf("versions %d → %d; rates kept: %v", before.Catalog.Version, after.Catalog.Version, before.Rates == after.Rates)
	}
	old := banksim.DemoCatalog("004", "", 3, banksim.CatalogOptions{Branches: 3, ATMs: 3})
	old.Version = 1
	ix.SetCatalogs(old) // an older version arriving late changes nothing
	if now, _ := ix.Bank("004"); now.Catalog.Version != 2 {
		t.Errorf("a late older version replaced version 2")
	}
}

// TestBankRebuildsPlaces checks that the flat tables lose nothing: a bank's
// catalog comes back from the index as it was published, and Products is
// the same catalog without its places.
func TestBankRebuildsPlaces(t *testing.T) {
	ix := productindex.New()
	var want []*obx.Catalog
	for i := range 3 {
		code := banksim.DemoBanks[i].Code
		c := banksim.DemoCatalog(code, "은행"+code, 1, banksim.CatalogOptions{})
		c.Version = 1
		c.ATMs[0].Hours.Exceptions = append(c.ATMs[0].Hours.Exceptions,
			obx.HoursException{Date: "2026-05-05", Periods: []obx.Period{{Open: 600, Close: 900}}, Reason: "어린이날"})
		want = append(want, c)
		// What the index is given is the caller's: compare against a deep copy.
		cp := banksim.DemoCatalog(code, "은행"+code, 1, banksim.CatalogOptions{})
		cp.Version = 1
		cp.ATMs[0].Hours.Exceptions = slices.Clone(c.ATMs[0].Hours.Exceptions)
		ix.SetCatalogs(cp)
	}
	for _, c := range want {
		got, ok := ix.Bank(c.BankCode)
		if !ok {
			t.Fatalf("bank %s missing", c.BankCode)
		}
		if diff := cmp.Diff(c, got.Catalog, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("bank %s (-published +index):\n%s", c.BankCode, diff)
		}
		lean, _ := ix.Products(c.BankCode)
		if len(lean.Catalog.ATMs) != 0 || len(lean.Catalog.Branches) != 0 || lean.Catalog.Version != 1 ||
			len(lean.Catalog.Deposits) != len(c.Deposits) {
			t.Errorf("Products(%s): %d ATMs, %d branches, version %d, %d deposits", c.BankCode,
				len(lean.Catalog.ATMs), len(lean.Catalog.Branches), lean.Catalog.Version, len(lean.Catalog.Deposits))
		}
	}
}

// TestPlacePages checks that Branches and ATMs page a bank's places as
// slicing the catalog Bank rebuilds would, and find one by code.
func TestPlacePages(t *testing.T) {
	ix := demoIndex(t, 3, banksim.CatalogOptions{Branches: 30, ATMs: 70})
	code := ix.Banks()[1]
	whole, _ := ix.Bank(code)
	for _, pg := range [][2]int{{0, 100}, {0, 10}, {25, 10}, {65, 10}, {70, 10}, {200, 5}} {
		atms, total, ok := ix.ATMs(code, "", pg[0], pg[1])
		want := whole.Catalog.ATMs[min(pg[0], 70):min(pg[0]+pg[1], 70)]
		if !ok || total != 70 || !cmp.Equal(atms, want, cmpopts.EquateEmpty()) {
			t.Errorf("ATMs offset %d limit %d: total %d, ok %v, diff %s", pg[0], pg[1], total, ok, cmp.Diff(want, atms, cmpopts.EquateEmpty()))
		}
		brs, total, _ := ix.Branches(code, "", pg[0], pg[1])
		wantBr := whole.Catalog.Branches[min(pg[0], 30):min(pg[0]+pg[1], 30)]
		if total != 30 || !cmp.Equal(brs, wantBr, cmpopts.EquateEmpty()) {
			t.Errorf("Branches offset %d limit %d: total %d, diff %s", pg[0], pg[1], total, cmp.Diff(wantBr, brs, cmpopts.EquateEmpty()))
		}
	}
	one := whole.Catalog.ATMs[42]
	if atms, total, _ := ix.ATMs(code, one.Code, 0, 100); total != 1 || !cmp.Equal(atms, []obx.ATM{one}) {
		t.Errorf("ATM %s: total %d, %v", one.Code, total, atms)
	}
	if atms, total, _ := ix.ATMs(code, "NOSUCH", 0, 100); total != 0 || len(atms) != 0 {
		t.Errorf("unknown ATM code: total %d, %v", total, atms)
	}
	if _, _, ok := ix.Branches("999", "", 0, 10); ok {
		t.Error("Branches of a bank that publishes nothing: ok")
	}
}
