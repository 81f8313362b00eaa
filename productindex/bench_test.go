package productindex_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/productindex"
)

// The data set of the targets: 50 banks × 2,000 ATMs (and 120
// branches each) spread over six Korean cities. Built once per process.
var (
	bigOnce  sync.Once
	bigIndex *productindex.Index
	bigBytes uint64 // heap held by the index
)

func big(b *testing.B) *productindex.Index {
	b.Helper()
	bigOnce.Do(func() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		bigIndex = demoIndex(b, 50, banksim.CatalogOptions{Branches: 120, ATMs: 2000})
		runtime.GC()
		runtime.ReadMemStats(&m1)
		bigBytes = m1.HeapAlloc - m0.HeapAlloc
	})
	return bigIndex
}

// queryPoints are points around the cities' districts, where TSPs' users are.
func queryPoints(n int) []obx.Location {
	r := rand.New(rand.NewPCG(1, 2))
	centres := []obx.Location{{Lat: 37.5663, Lon: 126.9779}, {Lat: 37.4979, Lon: 127.0276}, {Lat: 35.1151, Lon: 129.0422},
		{Lat: 35.8714, Lon: 128.6014}, {Lat: 37.4563, Lon: 126.7052}, {Lat: 36.3504, Lon: 127.3845}, {Lat: 35.1595, Lon: 126.8526}}
	out := make([]obx.Location, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		out[i] = obx.Location{Lat: c.Lat + (r.Float64()-0.5)*0.1, Lon: c.Lon + (r.Float64()-0.5)*0.1}
	}
	return out
}

// reportLatency runs op b.N times, timing each call, and reports p50 and p99
// in microseconds beside ns/op.
func reportLatency(b *testing.B, op func(i int)) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		op(i)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(bigBytes)/(1<<20), "index-MiB")
}

// BenchmarkNearbyATM is the nearest-ATM target: 10 nearest ATMs open
// now within 1 km, over 100,000 ATMs (target p99 < 2 ms).
func BenchmarkNearbyATM(b *testing.B) {
	ix := big(b)
	pts := queryPoints(1024)
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC) // 08:30 KST Thursday
	reportLatency(b, func(i int) {
		ix.Nearby(obx.NearbyQuery{Kind: obx.PlaceATM, From: pts[i%len(pts)], RadiusM: 1_000, Limit: 10, OpenAt: at})
	})
}

// BenchmarkNearbyATMFiltered asks for a rare service (foreign-currency ATMs
// with a passbook printer) within 5 km, so the search visits many cells.
func BenchmarkNearbyATMFiltered(b *testing.B) {
	ix := big(b)
	pts := queryPoints(1024)
	reportLatency(b, func(i int) {
		ix.Nearby(obx.NearbyQuery{Kind: obx.PlaceATM, From: pts[i%len(pts)], RadiusM: 5_000, Limit: 20,
			Services: []string{"fx", "passbook"}, OpenAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)})
	})
}

// BenchmarkCompareDeposits is the comparison target: 12-month USD time
// deposits for 10,000 dollars across 50 banks, best rate first (< 5 ms).
func BenchmarkCompareDeposits(b *testing.B) {
	ix := big(b)
	reportLatency(b, func(i int) {
		ix.Compare(obx.CompareQuery{Family: obx.FamilyDeposits, Kind: obx.DepositTime, Currency: "USD", TermMonths: 12,
			Amount: 10_000_00, MaxAnnualFee: -1, Limit: 20})
	})
}

// BenchmarkCompareCards compares every credit card of 50 banks by annual fee.
func BenchmarkCompareCards(b *testing.B) {
	ix := big(b)
	reportLatency(b, func(i int) {
		ix.Compare(obx.CompareQuery{Family: obx.FamilyCreditCards, MaxAnnualFee: -1, Limit: 20})
	})
}

// BenchmarkBestRates ranks every bank's cash sell rate for every currency.
func BenchmarkBestRates(b *testing.B) {
	ix := big(b)
	reportLatency(b, func(i int) {
		ix.BestRates(obx.BestRateQuery{Type: obx.RateCash, Side: obx.SideSell})
	})
}

// BenchmarkSetCatalog is the cost of publishing one bank's catalog into the
// full index: the grids over 106,000 places are rebuilt.
func BenchmarkSetCatalog(b *testing.B) {
	ix := big(b)
	c, _ := ix.Bank("004")
	cp := *c.Catalog
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cp.Version++
		next := cp
		ix.SetCatalogs(&next)
	}
}
