package http_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/productindex"
)

// benchProductHub is the whole hub handler (middleware, token
// introspection against SQLite, handler, JSON) over 50 banks × 2,000 ATMs,
// and the heap the index holds.
func benchProductHub(b *testing.B) (http.Handler, string, float64) {
	b.Helper()
	ctx := context.Background()
	e := dbtest.Engines()[0] // SQLite: the embedded default
	db := dbtest.Open(b, e)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ix := productindex.New()
	var cs []*obx.Catalog
	for i := range 50 {
		code := fmt.Sprintf("%03d", 100+i)
		c := banksim.DemoCatalog(code, "은행"+code, 1, banksim.CatalogOptions{Branches: 120, ATMs: 2000})
		c.Version = 1
		cs = append(cs, c)
		ix.SetRates(banksim.DemoRates(code, 1, time.Now()))
	}
	ix.SetCatalogs(cs...)
	cs = nil
	runtime.GC()
	runtime.ReadMemStats(&m1)
	o, err := oauth.New(oauth.Config{Participants: db, Accounts: db, Tokens: db, Flows: db, Banks: emptyBanks{},
		Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	h := (&obxhttp.Server{Tokens: o, Mounts: []obxhttp.Mounter{o}, Products: ix, ProductHistory: db}).Handler()
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	tsp := &obx.TSP{Name: "TSP", ClientUseCode: "T990000009", Status: obx.TSPActive}
	if err := db.CreateTSP(ctx, tsp); err != nil {
		b.Fatal(err)
	}
	id, secret := oauth.NewClientCredentials()
	hash, _ := oauth.HashSecret(secret)
	if err := db.CreateClient(ctx, &obx.Client{ID: id, TSPID: tsp.ID, Name: "app", SecretHash: hash,
		RedirectURIs: []string{redirectURI}, Scopes: []string{"products"}, Env: obx.EnvSandbox}); err != nil {
		b.Fatal(err)
	}
	token := hubtest.NewTSP(srv.URL, id, secret, tsp.ClientUseCode, redirectURI).InstitutionToken(b, "products")
	return h, token, float64(m1.HeapAlloc-m0.HeapAlloc) / (1 << 20)
}

// runHTTP serves b.N requests from path(i) through h and reports p50/p99.
func runHTTP(b *testing.B, h http.Handler, token string, mib float64, path func(i int) string) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, path(i), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		t := time.Now()
		h.ServeHTTP(w, req)
		lat = append(lat, time.Since(t))
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", req.URL, w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(mib, "index-MiB")
}

// BenchmarkProductNearbyHTTP is the nearest-ATM target measured in the hub:
// 10 ATMs open now within 1 km of points in six cities.
func BenchmarkProductNearbyHTTP(b *testing.B) {
	h, token, mib := benchProductHub(b)
	r := rand.New(rand.NewPCG(1, 2))
	centres := [][2]float64{{37.5663, 126.9779}, {37.4979, 127.0276}, {35.1151, 129.0422}, {35.8714, 128.6014}, {36.3504, 127.3845}}
	paths := make([]string, 512)
	for i := range paths {
		c := centres[r.IntN(len(centres))]
		paths[i] = fmt.Sprintf("/products/v1/nearby?kind=atm&lat=%.5f&lon=%.5f&radius_m=1000&open_now=true&limit=10",
			c[0]+(r.Float64()-0.5)*0.1, c[1]+(r.Float64()-0.5)*0.1)
	}
	runHTTP(b, h, token, mib, func(i int) string { return paths[i%len(paths)] })
}

// BenchmarkProductCompareHTTP is the comparison target measured in the hub:
// USD 12-month time deposits across 50 banks, best rate first.
func BenchmarkProductCompareHTTP(b *testing.B) {
	h, token, mib := benchProductHub(b)
	runHTTP(b, h, token, mib, func(int) string {
		return "/products/v1/compare/deposits?kind=time&currency=USD&term_months=12&amount=1000000&limit=20"
	})
}
