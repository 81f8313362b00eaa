package http

import (
	"net/http"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/fisc"
)

// The per-bank endpoints of fisc-api.md §2, under /fisc/v1/: the bank is the
// one X-DestinationId names. Each "…/list" returns a name → productCode map
// (§2.3); each collection returns its items, filtered by ?productCode= and
// paged by ?offset=&limit=. Deposits are designed by symmetry (§2.4), with
// krw in place of Taiwan's twd as the local currency.

// fiscList is a "…/list" type: which catalog items it lists, and the names
// of its response root and map (E.SUN's schema names where published).
type fiscList struct {
	root, ref string
	items     func(b *obx.BankProducts) map[string]string
}

// fiscCollection is a collection endpoint.
type fiscCollection struct {
	root, ref string
	items     func(b *obx.BankProducts) []fiscItem
	// page, for branches and ATMs, pages inside the index instead of items:
	// a bank has thousands of places and a page shows a hundred.
	page func(r ProductReader, bank, code string, pg page) (items []any, total int)
}

// fiscItem is one wire item with the code ?productCode= matches.
type fiscItem struct {
	code string
	v    any
}

func depositsOf(kind string, foreign bool) func(b *obx.BankProducts) []*obx.Deposit {
	return func(b *obx.BankProducts) []*obx.Deposit {
		var out []*obx.Deposit
		for i := range b.Catalog.Deposits {
			if d := &b.Catalog.Deposits[i]; d.Kind == kind && d.Foreign() == foreign {
				out = append(out, d)
			}
		}
		return out
	}
}

func loansOf(kind string) func(b *obx.BankProducts) []*obx.Loan {
	return func(b *obx.BankProducts) []*obx.Loan {
		var out []*obx.Loan
		for i := range b.Catalog.Loans {
			if l := &b.Catalog.Loans[i]; l.Kind == kind {
				out = append(out, l)
			}
		}
		return out
	}
}

func depositList(f func(*obx.BankProducts) []*obx.Deposit) fiscList {
	return fiscList{"appDepositList", "depositListRef", func(b *obx.BankProducts) map[string]string {
		m := map[string]string{}
		for _, d := range f(b) {
			m[d.Name] = d.Code
		}
		return m
	}}
}

func loanList(f func(*obx.BankProducts) []*obx.Loan) fiscList {
	return fiscList{"appLoanList", "loanListRef", func(b *obx.BankProducts) map[string]string {
		m := map[string]string{}
		for _, l := range f(b) {
			m[l.Name] = l.Code
		}
		return m
	}}
}

func depositCollection(root, ref string, f func(*obx.BankProducts) []*obx.Deposit) fiscCollection {
	return fiscCollection{root, ref, func(b *obx.BankProducts) []fiscItem {
		var out []fiscItem
		for _, d := range f(b) {
			out = append(out, fiscItem{d.Code, fisc.FromDeposit(d)})
		}
		return out
	}, nil}
}

func loanCollection(root, ref string, f func(*obx.BankProducts) []*obx.Loan) fiscCollection {
	return fiscCollection{root, ref, func(b *obx.BankProducts) []fiscItem {
		var out []fiscItem
		for _, l := range f(b) {
			out = append(out, fiscItem{l.Code, fisc.FromLoan(l)})
		}
		return out
	}, nil}
}

var (
	krwDemand, krwTime = depositsOf(obx.DepositDemand, false), depositsOf(obx.DepositTime, false)
	fxDemand, fxTime   = depositsOf(obx.DepositDemand, true), depositsOf(obx.DepositTime, true)
	cards              = loansOf(obx.LoanCard)
	securedLoans       = loansOf(obx.LoanSecured)
	unsecuredLoans     = loansOf(obx.LoanUnsecured)
)

// fiscLists are the "GET /fisc/v1/{type}/list" types.
var fiscLists = map[string]fiscList{
	"currency": {"appCurrencyList", "currencyListRef", func(b *obx.BankProducts) map[string]string {
		m := map[string]string{}
		if b.Rates != nil {
			for _, r := range b.Rates.Rates {
				m[currencyName(r.Currency)] = r.Currency
			}
		}
		return m
	}},
	"creditCard":       loanList(cards),
	"securedLoan":      loanList(securedLoans),
	"noSecuredLoan":    loanList(unsecuredLoans),
	"krwDemandDeposit": depositList(krwDemand),
	"krwTimeDeposit":   depositList(krwTime),
	"fxDemandDeposit":  depositList(fxDemand),
	"fxTimeDeposit":    depositList(fxTime),
	"fund": {"appWealthProductList", "wealthProductList", func(b *obx.BankProducts) map[string]string {
		m := map[string]string{}
		for _, f := range b.Catalog.Funds {
			m[f.Name] = f.Code
		}
		return m
	}},
}

func currencyName(code string) string {
	if n := fisc.CurrencyNames[code]; n != "" {
		return n
	}
	return code
}

// fiscCollections are the "GET /fisc/v1/{collection}" endpoints.
var fiscCollections = map[string]fiscCollection{
	"krwDemandDeposits": depositCollection("appKrwDemandDeposit", "krwDemandDepositRef", krwDemand),
	"krwTimeDeposits":   depositCollection("appKrwTimeDeposit", "krwTimeDepositRef", krwTime),
	"fxDemandDeposits":  depositCollection("appFxDemandDeposit", "fxDemandDepositRef", fxDemand),
	"fxTimeDeposits":    depositCollection("appFxTimeDeposit", "fxTimeDepositRef", fxTime),
	"creditCards":       loanCollection("appCreditCard", "creditCardRef", cards),
	"securedLoans":      loanCollection("appSecuredLoan", "securedLoanRef", securedLoans),
	"noSecuredLoans":    loanCollection("appNoSecuredLoan", "noSecuredLoanRef", unsecuredLoans),
	"safeDepositBoxes": {"appSafeDepositBox", "safeBoxRef", func(b *obx.BankProducts) []fiscItem {
		var out []fiscItem
		for i := range b.Catalog.SafeDepositBoxes {
			s := &b.Catalog.SafeDepositBoxes[i]
			out = append(out, fiscItem{s.Code, fisc.FromSafeDepositBox(s)})
		}
		return out
	}, nil},
	"branches": {root: "appBranch", ref: "branchRef", page: func(r ProductReader, bank, code string, pg page) ([]any, int) {
		brs, total, _ := r.Branches(bank, code, pg.offset, pg.limit)
		out := make([]any, len(brs))
		for i := range brs {
			out[i] = fisc.FromBranch(&brs[i])
		}
		return out, total
	}},
	"atms": {root: "appAtm", ref: "atmRef", page: func(r ProductReader, bank, code string, pg page) ([]any, int) {
		atms, total, _ := r.ATMs(bank, code, pg.offset, pg.limit)
		out := make([]any, len(atms))
		for i := range atms {
			out[i] = fisc.FromATM(&atms[i])
		}
		return out, total
	}},
	"exchangeRates": {"appExchangeRate", "exchangeRateRef", func(b *obx.BankProducts) []fiscItem {
		var out []fiscItem
		if b.Rates != nil {
			for _, r := range b.Rates.Rates {
				out = append(out, fiscItem{r.Currency, fisc.FromExchangeRate(r)})
			}
		}
		return out
	}, nil},
	"funds": {"appFund", "fundRef", func(b *obx.BankProducts) []fiscItem {
		var out []fiscItem
		for i := range b.Catalog.Funds {
			f := &b.Catalog.Funds[i]
			out = append(out, fiscItem{f.Code, fisc.FromFund(f)})
		}
		return out
	}, nil},
}

// destinationBank returns the bank X-DestinationId names (already
// validated), without its branches and ATMs.
func (s *Server) destinationBank(r *http.Request) (*obx.BankProducts, error) {
	code := r.Header.Get("X-DestinationId")[:3]
	b, ok := s.Products.Products(code)
	if !ok {
		return nil, perr(pcodeUnknownBank, "No participating bank publishes product data as "+r.Header.Get("X-DestinationId")+".")
	}
	return b, nil
}

// handleFISCList handles "GET /fisc/v1/{type}/list".
func (s *Server) handleFISCList(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	l, ok := fiscLists[r.PathValue("type")]
	if !ok {
		return nil, time.Time{}, perr(pcodeNotFound, "No such product type; see docs/products.md for the list types.")
	}
	b, err := s.destinationBank(r)
	if err != nil {
		return nil, time.Time{}, err
	}
	return map[string]any{l.root: map[string]any{l.ref: l.items(b)}}, b.Modified(), nil
}

// handleFISCCollection handles "GET /fisc/v1/{collection}".
func (s *Server) handleFISCCollection(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	c, ok := fiscCollections[r.PathValue("collection")]
	if !ok {
		return nil, time.Time{}, perr(pcodeNotFound, "No such endpoint; see docs/products.md.")
	}
	q := r.URL.Query()
	pg, err := parsePage(q, 100, 1000)
	if err != nil {
		return nil, time.Time{}, err
	}
	code := q.Get("productCode")
	if len(code) > 64 {
		return nil, time.Time{}, perr(pcodeInvalidParam, "productCode is at most 64 characters.")
	}
	b, err := s.destinationBank(r)
	if err != nil {
		return nil, time.Time{}, err
	}
	var items []any
	var total int
	if c.page != nil {
		items, total = c.page(s.Products, b.Catalog.BankCode, code, pg)
	} else {
		var list []any
		for _, it := range c.items(b) {
			if code == "" || it.code == code {
				list = append(list, it.v)
			}
		}
		items, total = pageOf(list, pg), len(list)
	}
	if code != "" && total == 0 {
		return nil, time.Time{}, perr(pcodeNotFound, "The bank has no product with that productCode here.")
	}
	body := map[string]any{
		"bankCode": b.Catalog.BankCode, "bankName": b.Catalog.BankName, "updateTime": b.Modified().UTC().Format(time.RFC3339),
		"totalCount": total, "offset": pg.offset, "limit": pg.limit, c.ref: items,
	}
	if next := pg.offset + len(items); next < total {
		body["nextOffset"] = next
	}
	if c.ref == "exchangeRateRef" && b.Rates != nil {
		body["quoteTime"] = b.Rates.QuotedAt.UTC().Format(time.RFC3339)
	}
	return map[string]any{c.root: body}, b.Modified(), nil
}

// pageOf returns the page pg of list, never nil (an empty page is []).
func pageOf(list []any, pg page) []any {
	if pg.offset >= len(list) {
		return []any{}
	}
	return list[pg.offset:min(len(list), pg.offset+pg.limit)]
}
