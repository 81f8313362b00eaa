package http

import (
	"math"
	"net/http"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/fisc"
)

// productRoutes registers the product-data API (docs/products.md).
func (s *Server) productRoutes(mux *http.ServeMux) {
	s.productRoute(mux, "GET /fisc/v1/{type}/list", true, s.handleFISCList)
	s.productRoute(mux, "GET /fisc/v1/{collection}", true, s.handleFISCCollection)
	s.productRoute(mux, "GET /products/v1/compare/{family}", false, s.handleCompare)
	s.productRoute(mux, "GET /products/v1/nearby", false, s.handleNearby)
	s.productRoute(mux, "GET /products/v1/exchange-rates/best", false, s.handleBestRates)
	s.productRoute(mux, "GET /products/v1/banks/{code}/deposits", false, s.handleDepositHistory)
	s.productRoute(mux, "GET /products/v1/banks/{code}/exchange-rates", false, s.handleRateHistory)
	for _, p := range []string{"/fisc/", "/products/"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			s.productFail(w, r, "", perr(pcodeNotFound, "No such endpoint or method; see docs/products.md."))
		})
	}
}

// Response bodies of the hub's own endpoints.

type placeJSON struct {
	BankCode  string       `json:"bankCode"`
	BankName  string       `json:"bankName"`
	DistanceM int64        `json:"distanceM"`
	Branch    *fisc.Branch `json:"branch,omitempty"`
	ATM       *fisc.ATM    `json:"atm,omitempty"`
}

type nearbyJSON struct {
	Kind       string          `json:"kind"`
	From       fisc.Coordinate `json:"from"`
	RadiusM    float64         `json:"radiusM"`
	OpenAt     string          `json:"openAt,omitempty"`
	Offset     int             `json:"offset"`
	Limit      int             `json:"limit"`
	NextOffset *int            `json:"nextOffset,omitempty"`
	Results    []placeJSON     `json:"results"`
}

// handleNearby handles "GET /products/v1/nearby": branches or ATMs nearest
// to a point, within a radius, optionally open at a time and offering
// services, nearest first.
func (s *Server) handleNearby(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	q, err := s.nearbyQuery(r.URL.Query(), s.Now())
	if err != nil {
		return nil, time.Time{}, err
	}
	res := s.Products.Nearby(q)
	out := nearbyJSON{Kind: q.Kind, From: fisc.Coordinate{Latitude: q.From.Lat, Longitude: q.From.Lon}, RadiusM: q.RadiusM,
		Offset: q.Offset, Limit: q.Limit, Results: make([]placeJSON, 0, len(res.Places))}
	if !q.OpenAt.IsZero() {
		out.OpenAt = q.OpenAt.UTC().Format(time.RFC3339)
	}
	for _, pl := range res.Places {
		pj := placeJSON{BankCode: pl.BankCode, BankName: pl.BankName, DistanceM: int64(math.Round(pl.DistanceM))}
		if pl.Branch != nil {
			b := fisc.FromBranch(pl.Branch)
			pj.Branch = &b
		} else {
			a := fisc.FromATM(pl.ATM)
			pj.ATM = &a
		}
		out.Results = append(out.Results, pj)
	}
	if res.More {
		next := q.Offset + len(res.Places)
		out.NextOffset = &next
	}
	return out, res.Modified, nil
}

type matchJSON struct {
	BankCode       string               `json:"bankCode"`
	BankName       string               `json:"bankName"`
	ApplicableRate *fisc.RateTier       `json:"applicableRate,omitempty"` // deposits: the tier for the query's term and amount
	Deposit        *fisc.Deposit        `json:"deposit,omitempty"`
	Loan           *fisc.Loan           `json:"loan,omitempty"`
	Fund           *fisc.Fund           `json:"fund,omitempty"`
	SafeDepositBox *fisc.SafeDepositBox `json:"safeDepositBox,omitempty"`
}

type compareJSON struct {
	Family     string      `json:"family"`
	Sort       string      `json:"sort"`
	Total      int         `json:"total"`
	Offset     int         `json:"offset"`
	Limit      int         `json:"limit"`
	NextOffset *int        `json:"nextOffset,omitempty"`
	Results    []matchJSON `json:"results"`
}

// handleCompare handles "GET /products/v1/compare/{family}".
func (s *Server) handleCompare(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	q, err := s.compareQuery(r.PathValue("family"), r.URL.Query())
	if err != nil {
		return nil, time.Time{}, err
	}
	res := s.Products.Compare(q)
	out := compareJSON{Family: r.PathValue("family"), Sort: q.Sort, Total: res.Total, Offset: q.Offset, Limit: q.Limit,
		Results: make([]matchJSON, 0, len(res.Matches))}
	if out.Sort == "" {
		out.Sort = obx.CompareSorts[q.Family][0]
	}
	for _, m := range res.Matches {
		mj := matchJSON{BankCode: m.BankCode, BankName: m.BankName}
		switch {
		case m.Deposit != nil:
			d, t := fisc.FromDeposit(m.Deposit), fisc.FromTier(m.Tier)
			mj.Deposit, mj.ApplicableRate = &d, &t
		case m.Loan != nil:
			l := fisc.FromLoan(m.Loan)
			mj.Loan = &l
		case m.Fund != nil:
			f := fisc.FromFund(m.Fund)
			mj.Fund = &f
		case m.Box != nil:
			b := fisc.FromSafeDepositBox(m.Box)
			mj.SafeDepositBox = &b
		}
		out.Results = append(out.Results, mj)
	}
	if next := q.Offset + len(res.Matches); next < res.Total {
		out.NextOffset = &next
	}
	return out, res.Modified, nil
}

type quoteJSON struct {
	BankCode  string `json:"bankCode"`
	BankName  string `json:"bankName"`
	Rate      string `json:"rate"` // KRW per unit
	Unit      int    `json:"unit"`
	QuoteTime string `json:"quoteTime"`
}

type bestRateJSON struct {
	Currency     string      `json:"currency"`
	CurrencyName string      `json:"currencyName"`
	Best         quoteJSON   `json:"best"`
	Quotes       []quoteJSON `json:"quotes"` // every bank, best first
}

type bestRatesJSON struct {
	Type       string         `json:"type"`
	Side       string         `json:"side"`
	Currencies []bestRateJSON `json:"currencies"`
}

// handleBestRates handles "GET /products/v1/exchange-rates/best".
func (s *Server) handleBestRates(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	q, err := s.bestRateQuery(r.URL.Query())
	if err != nil {
		return nil, time.Time{}, err
	}
	res, mod := s.Products.BestRates(q)
	out := bestRatesJSON{Type: q.Type, Side: q.Side, Currencies: []bestRateJSON{}}
	for _, br := range res {
		bj := bestRateJSON{Currency: br.Currency, CurrencyName: currencyName(br.Currency)}
		for _, qt := range br.Quotes {
			bj.Quotes = append(bj.Quotes, quoteJSON{BankCode: qt.BankCode, BankName: qt.BankName, Rate: qt.Rate.String(),
				Unit: qt.Unit, QuoteTime: qt.QuotedAt.UTC().Format(time.RFC3339)})
		}
		bj.Best = bj.Quotes[0]
		out.Currencies = append(out.Currencies, bj)
	}
	return out, mod, nil
}

// historyBank checks the path's bank code.
func historyBank(r *http.Request) (string, error) {
	code := r.PathValue("code")
	if !bankCodeRE.MatchString(code) {
		return "", perr(pcodeInvalidParam, "The bank code must be 3 digits.")
	}
	return code, nil
}

// historyQuery reads a history request: a bank that publishes product data,
// and the instant ?at= (zero: now).
func (s *Server) historyQuery(r *http.Request) (code string, at time.Time, err error) {
	if code, err = historyBank(r); err != nil {
		return "", time.Time{}, err
	}
	if at, err = timeParam(r.URL.Query(), "at"); err != nil {
		return "", time.Time{}, err
	}
	if _, ok := s.Products.Products(code); !ok {
		return "", time.Time{}, perr(pcodeUnknownBank, "No participating bank publishes product data as "+code+".")
	}
	return code, at, nil
}

type depositHistoryJSON struct {
	BankCode    string         `json:"bankCode"`
	BankName    string         `json:"bankName"`
	At          string         `json:"at,omitempty"`
	Version     int64          `json:"version"`
	PublishedAt string         `json:"publishedAt"`
	Deposits    []fisc.Deposit `json:"deposits"`
}

// handleDepositHistory handles "GET /products/v1/banks/{code}/deposits":
// the deposits (and their rates) of the catalog version in service at ?at=
// (default now). It reads the database: history is rare traffic.
func (s *Server) handleDepositHistory(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	code, at, err := s.historyQuery(r)
	if err != nil {
		return nil, time.Time{}, err
	}
	c, err := s.ProductHistory.Catalog(r.Context(), code, at)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := depositHistoryJSON{BankCode: code, BankName: c.BankName, Version: c.Version,
		PublishedAt: c.PublishedAt.UTC().Format(time.RFC3339), Deposits: []fisc.Deposit{}}
	if !at.IsZero() {
		out.At = at.UTC().Format(time.RFC3339)
	}
	for i := range c.Deposits {
		out.Deposits = append(out.Deposits, fisc.FromDeposit(&c.Deposits[i]))
	}
	return out, c.PublishedAt, nil
}

// handleRateHistory handles "GET /products/v1/banks/{code}/exchange-rates":
// the bank's rate board in force at ?at= (default now).
func (s *Server) handleRateHistory(r *http.Request, p *obx.Principal) (any, time.Time, error) {
	code, at, err := s.historyQuery(r)
	if err != nil {
		return nil, time.Time{}, err
	}
	b, err := s.ProductHistory.Rates(r.Context(), code, at)
	if err != nil {
		return nil, time.Time{}, err
	}
	return fisc.FromRateBoard(b), b.PublishedAt, nil
}
