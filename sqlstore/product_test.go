package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/internal/dbtest"
)

func smallCatalog(bank string, rate obx.Decimal) *obx.Catalog {
	c := &obx.Catalog{BankCode: bank, BankName: "은행 " + bank, TimeZone: "Asia/Seoul",
		Deposits: []obx.Deposit{{Code: "TD", Name: "정기예금", Kind: obx.DepositTime, Currency: "KRW",
			Tiers:          []obx.RateTier{{TermMonths: 12, MinAmount: 1_000_000, Rate: rate}},
			InterestMethod: obx.InterestSimple, CreditFrequency: "maturity", DayCountBasis: 365}},
		Branches: []obx.Branch{{Code: bank + "0001", Name: "본점", Location: obx.Location{Lat: 37.5, Lon: 127},
			Hours: obx.OpeningHours{Weekly: []obx.Period{{Day: time.Monday, Open: 540, Close: 960}}}}},
	}
	c.Digest = c.ContentDigest()
	return c
}

func TestCatalogHistory(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		now := t0
		db.Now = func() time.Time { return now }

		if _, err := db.Catalog(ctx, "088", time.Time{}); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Fatalf("Catalog before any: %v", err)
		}
		v1 := smallCatalog("088", 3_000_000)
		if saved, err := db.SaveCatalog(ctx, v1); err != nil || !saved || v1.Version != 1 {
			t.Fatalf("SaveCatalog v1 = %v, %v, version %d", saved, err, v1.Version)
		}
		// The same content again is no new version.
		now = t0.Add(time.Hour)
		again := smallCatalog("088", 3_000_000)
		if saved, err := db.SaveCatalog(ctx, again); err != nil || saved || again.Version != 1 {
			t.Fatalf("SaveCatalog same = %v, %v, version %d", saved, err, again.Version)
		}
		now = t0.Add(48 * time.Hour)
		v2 := smallCatalog("088", 3_250_000)
		if saved, err := db.SaveCatalog(ctx, v2); err != nil || !saved || v2.Version != 2 {
			t.Fatalf("SaveCatalog v2 = %v, %v, version %d", saved, err, v2.Version)
		}

		for _, tc := range []struct {
			at   time.Time
			want obx.Decimal
		}{{t0, 3_000_000}, {t0.Add(47 * time.Hour), 3_000_000}, {t0.Add(48 * time.Hour), 3_250_000}, {time.Time{}, 3_250_000}} {
			c, err := db.Catalog(ctx, "088", tc.at)
			if err != nil {
				t.Fatalf("Catalog at %v: %v", tc.at, err)
			}
			if got := c.Deposits[0].Tiers[0].Rate; got != tc.want {
				t.Errorf("rate at %v = %s, want %s", tc.at, got, tc.want)
			}
		}
		if _, err := db.Catalog(ctx, "088", t0.Add(-time.Second)); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("Catalog before the first version: %v", err)
		}
		got, err := db.Catalog(ctx, "088", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v2, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		vs, err := db.CatalogVersions(ctx, "088")
		if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 || !vs[1].PublishedAt.Equal(t0.Add(48*time.Hour)) {
			t.Errorf("CatalogVersions = %+v, %v", vs, err)
		}
	})
}

func TestCatalogConcurrentSaves(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Two writers per content: each content is stored once.
				_, err := db.SaveCatalog(ctx, smallCatalog("004", obx.Decimal(1_000_000+i/2*10_000)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		vs, err := db.CatalogVersions(ctx, "004")
		if err != nil {
			t.Fatal(err)
		}
		// Equal content is skipped only when it is the newest version, so
		// between n/2 and n versions exist; they must be 1…len without gaps.
		if len(vs) < n/2 || len(vs) > n {
			t.Fatalf("%d versions", len(vs))
		}
		for i, v := range vs {
			if v.Version != int64(i+1) {
				t.Errorf("version %d at position %d", v.Version, i)
			}
			if i > 0 && v.PublishedAt.Before(vs[i-1].PublishedAt) {
				t.Errorf("version %d published before version %d", v.Version, vs[i-1].Version)
			}
		}
	})
}

func TestRateBoards(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		db := dbtest.Open(t, e)
		board := func(bank string, at time.Time, usd obx.Decimal) *obx.RateBoard {
			return &obx.RateBoard{BankCode: bank, QuotedAt: at, Rates: []obx.ExchangeRate{
				{Currency: "USD", Unit: 1, CashBuy: usd - 20_000_000, CashSell: usd + 20_000_000, SpotBuy: usd - 10_000_000, SpotSell: usd + 10_000_000}}}
		}
		// Many boards a day.
		for i := range 6 {
			b := board("088", t0.Add(time.Duration(i)*10*time.Minute), obx.Decimal(1_380_000_000+i*1_000_000))
			if saved, err := db.SaveRates(ctx, b); err != nil || !saved {
				t.Fatalf("SaveRates %d: %v, %v", i, saved, err)
			}
		}
		if saved, err := db.SaveRates(ctx, board("088", t0, 1)); err != nil || saved {
			t.Errorf("SaveRates of a quote time already stored = %v, %v", saved, err)
		}
		if _, err := db.SaveRates(ctx, board("004", t0.Add(time.Minute), 1_390_000_000)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			at   time.Time
			want obx.Decimal
		}{{t0.Add(25 * time.Minute), 1_382_000_000}, {t0.Add(20 * time.Minute), 1_382_000_000}, {time.Time{}, 1_385_000_000}} {
			b, err := db.Rates(ctx, "088", tc.at)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := b.Rate("USD")
			if mid := (r.SpotBuy + r.SpotSell) / 2; mid != tc.want {
				t.Errorf("USD at %v = %s, want %s", tc.at, mid, tc.want)
			}
		}
		if _, err := db.Rates(ctx, "088", t0.Add(-time.Minute)); obx.ErrorCode(err) != obx.ENOTFOUND {
			t.Errorf("Rates before the first board: %v", err)
		}
		if _, err := db.SaveCatalog(ctx, smallCatalog("020", 1)); err != nil {
			t.Fatal(err)
		}
		heads, err := db.ProductHeads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []obx.ProductHead{
			{BankCode: "004", RatesQuotedAt: t0.Add(time.Minute)},
			{BankCode: "020", Version: 1},
			{BankCode: "088", RatesQuotedAt: t0.Add(50 * time.Minute)},
		}
		if diff := cmp.Diff(want, sortHeads(heads)); diff != "" {
			t.Errorf("ProductHeads (-want +got):\n%s", diff)
		}
	})
}

func sortHeads(hs []obx.ProductHead) []obx.ProductHead {
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if hs[j].BankCode < hs[i].BankCode {
				hs[i], hs[j] = hs[j], hs[i]
			}
		}
	}
	return hs
}
