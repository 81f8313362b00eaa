package productindex

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// BestRates answers a BestRateQuery: for each currency (in code order), every
// selected bank's quote of the rate type and side, best first (lowest for
// the bank's sell side, highest for its buy side), each with the time the
// bank quoted it. Quotes compare per unit: a bank quoting JPY per 100 and one
// quoting per 1 are ranked correctly. The second result is the newest
// publication time among the banks.
func (ix *Index) BestRates(q obx.BestRateQuery) ([]obx.BestRate, time.Time) {
	banks, mod := ix.load().selected(q.Banks)
	byCur := map[string][]obx.RateQuote{}
	for _, b := range banks {
		if b.Rates == nil {
			continue
		}
		for _, r := range b.Rates.Rates {
			if len(q.Currencies) > 0 && !slices.Contains(q.Currencies, r.Currency) {
				continue
			}
			var v obx.Decimal
			switch {
			case q.Type == obx.RateCash && q.Side == obx.SideBuy:
				v = r.CashBuy
			case q.Type == obx.RateCash:
				v = r.CashSell
			case q.Side == obx.SideBuy:
				v = r.SpotBuy
			default:
				v = r.SpotSell
			}
			byCur[r.Currency] = append(byCur[r.Currency], obx.RateQuote{
				BankCode: b.Catalog.BankCode, BankName: b.Catalog.BankName, Rate: v, Unit: r.Unit, QuotedAt: b.Rates.QuotedAt,
			})
		}
	}
	out := make([]obx.BestRate, 0, len(byCur))
	for cur, qs := range byCur {
		slices.SortFunc(qs, func(a, b obx.RateQuote) int {
			// Per-unit comparison without division: a/ua vs b/ub ⇔ a·ub vs b·ua.
			c := cmp.Compare(int64(a.Rate)*int64(b.Unit), int64(b.Rate)*int64(a.Unit))
			if q.Side == obx.SideBuy {
				c = -c
			}
			if c != 0 {
				return c
			}
			return strings.Compare(a.BankCode, b.BankCode)
		})
		out = append(out, obx.BestRate{Currency: cur, Quotes: qs})
	}
	slices.SortFunc(out, func(a, b obx.BestRate) int { return strings.Compare(a.Currency, b.Currency) })
	return out, mod
}
