package banksim_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

func TestDemoCatalog(t *testing.T) {
	for _, b := range banksim.DemoBanks {
		c := banksim.DemoCatalog(b.Code, b.Name, 1, banksim.CatalogOptions{})
		if ps := c.Validate(); len(ps) != 0 {
			t.Fatalf("bank %s: catalog has problems: %v", b.Code, ps[:min(5, len(ps))])
		}
		if len(c.Branches) < 100 || len(c.ATMs) < 200 || len(c.SafeDepositBoxes) == 0 || len(c.Funds) == 0 {
			t.Errorf("bank %s: %d branches, %d ATMs, %d boxes, %d funds", b.Code, len(c.Branches), len(c.ATMs), len(c.SafeDepositBoxes), len(c.Funds))
		}
		families := map[string]bool{}
		currencies := map[string]bool{}
		for _, d := range c.Deposits {
			families[d.Kind+"/"+map[bool]string{true: "fx", false: "krw"}[d.Foreign()]] = true
			currencies[d.Currency] = true
		}
		for _, l := range c.Loans {
			families[l.Kind] = true
		}
		if len(families) != 7 || len(currencies) < 4 {
			t.Errorf("bank %s: families %v, currencies %v", b.Code, families, currencies)
		}
		cities := map[string]bool{}
		crossing, exceptions := 0, 0
		for _, a := range c.ATMs {
			cities[a.Address.City] = true
			for _, p := range a.Hours.Weekly {
				if p.Close <= p.Open {
					crossing++
				}
			}
			exceptions += len(a.Hours.Exceptions)
		}
		if len(cities) < 4 || crossing == 0 || exceptions == 0 {
			t.Errorf("bank %s: cities %v, %d periods across midnight, %d exceptions", b.Code, cities, crossing, exceptions)
		}
	}
	a := banksim.DemoCatalog("088", "", 7, banksim.CatalogOptions{})
	if diff := cmp.Diff(a, banksim.DemoCatalog("088", "", 7, banksim.CatalogOptions{})); diff != "" {
		t.Errorf("catalog not deterministic:\n%s", diff)
	}
	if a.ContentDigest() == banksim.DemoCatalog("088", "", 8, banksim.CatalogOptions{}).ContentDigest() {
		t.Error("another seed gave the same catalog")
	}
}

func TestDemoRates(t *testing.T) {
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	b1 := banksim.DemoRates("088", 1, at)
	if ps := b1.Validate(); len(ps) != 0 {
		t.Fatal(ps)
	}
	if !b1.QuotedAt.Equal(at) || len(b1.Rates) < 10 {
		t.Errorf("board %v with %d rates", b1.QuotedAt, len(b1.Rates))
	}
	if same := banksim.DemoRates("088", 1, at.Add(banksim.RateInterval-time.Second)); !cmp.Equal(b1, same) {
		t.Error("rates changed within an interval")
	}
	if next := banksim.DemoRates("088", 1, at.Add(banksim.RateInterval)); cmp.Equal(b1.Rates, next.Rates) {
		t.Error("rates did not move in the next interval")
	}
}

func TestBankFetchCatalog(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	b, err := banksim.Open(ctx, banksim.Config{Code: "097", Seed: 1, DSN: filepath.Join(t.TempDir(), "b.db"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var src obx.CatalogSource = b
	f, err := src.FetchCatalog(ctx, "")
	if err != nil || f.NotModified || f.Catalog == nil || f.ETag == "" {
		t.Fatalf("first fetch: %+v, %v", f, err)
	}
	if again, _ := src.FetchCatalog(ctx, f.ETag); !again.NotModified {
		t.Error("conditional fetch of an unchanged catalog was not NotModified")
	}
	r, _ := src.FetchRates(ctx, "")
	if r2, _ := src.FetchRates(ctx, r.ETag); !r2.NotModified {
		t.Error("rates changed within an interval")
	}
	now = now.Add(banksim.RateInterval)
	if r3, _ := src.FetchRates(ctx, r.ETag); r3.NotModified || r3.Board == nil {
		t.Error("rates not requoted after an interval")
	}
}
