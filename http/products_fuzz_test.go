package http

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/productindex"
)

// FuzzProductQuery feeds arbitrary query strings and FISC headers to the
// product API's request parsing and the index behind it. Whatever arrives,
// parsing either yields a query the index answers or a product error with
// a 4xx code: never a panic, never an unclassified error (a 5xx).
func FuzzProductQuery(f *testing.F) {
	ix := productindex.New()
	c := banksim.DemoCatalog("088", "", 1, banksim.CatalogOptions{Branches: 20, ATMs: 40})
	c.Version = 1
	ix.SetCatalogs(c)
	ix.SetRates(banksim.DemoRates("088", 1, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)))
	s := &Server{Products: ix}
	now := time.Date(2026, 3, 4, 1, 30, 0, 0, time.UTC)
	for _, seed := range []string{
		"kind=atm&lat=37.5663&lon=126.9779&radius_m=5000&open_now=true&service=fx,deposit&limit=5&offset=5&bank=088",
		"kind=branch&lat=-90&lon=180&open_at=2026-03-04T10:00:00%2B09:00&accessibility=wheelchair",
		"kind=time&currency=USD&term_months=12&amount=1000000&eligibility=senior&sort=rate&max_annual_fee=0&max_risk_level=3",
		"currency=JPY,USD&side=sell&type=cash", "lat=1e309&lon=NaN&radius_m=-1&limit=99999999999999999999",
		"at=2026-02-30&offset=10001&bank=08%00", "productCode=" + string(make([]byte, 70)),
	} {
		f.Add(seed, "1234567", "0880000", "20260304103000")
	}
	f.Fuzz(func(t *testing.T, query, stan, dest, ts string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var pe *productError
			if !errors.As(err, &pe) || productStatus[pe.code] >= 500 || productStatus[pe.code] < 400 {
				t.Fatalf("%s(%q): %v is not a 4xx product error", what, query, err)
			}
		}
		nq, err := s.nearbyQuery(q, now)
		check("nearbyQuery", err)
		if err == nil {
			ix.Nearby(nq)
		}
		for _, fam := range []string{"deposits", "credit-cards", "funds", "safe-deposit-boxes", "secured-loans"} {
			cq, err := s.compareQuery(fam, q)
			check("compareQuery", err)
			if err == nil {
				ix.Compare(cq)
			}
		}
		bq, err := s.bestRateQuery(q)
		check("bestRateQuery", err)
		if err == nil {
			ix.BestRates(bq)
		}
		_, err = timeParam(q, "at")
		check("timeParam", err)
		_, err = parsePage(q, 100, 1000)
		check("parsePage", err)

		r := httptest.NewRequest("GET", "/fisc/v1/atms", nil)
		r.Header.Set("X-STAN", stan)
		r.Header.Set("X-DestinationId", dest)
		r.Header.Set("X-ClientId", "client")
		r.Header.Set("X-TxnInitDateTime", ts)
		check("checkFISCHeaders", checkFISCHeaders(r, &obx.Principal{ClientID: "client"}))
		echoFISCHeaders(httptest.NewRecorder(), r)
	})
}
