package http

import (
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// Query-parameter parsing of the product API. Every function answers a
// malformed value with invalid_parameter naming the parameter; nothing here
// may panic or yield a 5xx, whatever the input (FuzzProductQuery).

type page struct{ offset, limit int }

// maxOffset bounds paging so that a deep offset cannot make a query costly.
const maxOffset = 10_000

// parsePage reads offset and limit.
func parsePage(q url.Values, def, max int) (page, error) {
	pg := page{limit: def}
	var err error
	if pg.offset, err = intParam(q, "offset", 0, 0, maxOffset); err != nil {
		return pg, err
	}
	if pg.limit, err = intParam(q, "limit", def, 1, max); err != nil {
		return pg, err
	}
	return pg, nil
}

// intParam reads an integer parameter in [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, perr(pcodeInvalidParam, name+" must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".")
	}
	return n, nil
}

// floatParam reads a finite decimal number in [lo, hi].
func floatParam(q url.Values, name string, def, lo, hi float64) (float64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f > hi {
		return 0, perr(pcodeInvalidParam, name+" must be a number from "+strconv.FormatFloat(lo, 'f', -1, 64)+" to "+strconv.FormatFloat(hi, 'f', -1, 64)+".")
	}
	return f, nil
}

var (
	tokenRE    = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)
	bankCodeRE = regexp.MustCompile(`^[0-9]{3}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// listParam reads a comma-separated list (repeated parameters are joined),
// at most 20 items, each matching re.
func listParam(q url.Values, name string, re *regexp.Regexp, what string) ([]string, error) {
	var out []string
	for _, v := range q[name] {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if !re.MatchString(item) {
				return nil, perr(pcodeInvalidParam, name+" must be a comma-separated list of "+what+".")
			}
			if !slices.Contains(out, item) {
				out = append(out, item)
			}
		}
	}
	if len(out) > 20 {
		return nil, perr(pcodeInvalidParam, name+" lists at most 20 items.")
	}
	return out, nil
}

// banksParam reads bank=004,088: each must publish product data.
func (s *Server) banksParam(q url.Values) ([]string, error) {
	codes, err := listParam(q, "bank", bankCodeRE, "3-digit bank codes")
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		if _, ok := s.Products.Products(c); !ok {
			return nil, perr(pcodeUnknownBank, "No participating bank publishes product data as "+c+".")
		}
	}
	return codes, nil
}

// currencyParam reads one ISO 4217 code the hub knows; "" when absent.
func currencyParam(q url.Values, name string) (string, error) {
	c := q.Get(name)
	if c == "" {
		return "", nil
	}
	if !obx.ValidCurrency(c) {
		return "", perr(pcodeInvalidParam, name+" must be an ISO 4217 currency code in capitals, e.g. USD.")
	}
	return c, nil
}

// timeParam reads an RFC 3339 time, or a date YYYY-MM-DD meaning the end of
// that day in KST (so "the rate on 2026-03-02" is the last one quoted that
// day).
func timeParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil && t.Year() >= 2000 && t.Year() <= 2200 {
		return t, nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, fiscZone); err == nil && d.Year() >= 2000 && d.Year() <= 2200 {
		return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
	}
	return time.Time{}, perr(pcodeInvalidParam, name+" must be an RFC 3339 time (2026-03-02T09:30:00+09:00) or a date (2026-03-02) between 2000 and 2200.")
}

// nearbyQuery reads the parameters of GET /products/v1/nearby.
func (s *Server) nearbyQuery(q url.Values, now time.Time) (obx.NearbyQuery, error) {
	var nq obx.NearbyQuery
	switch k := q.Get("kind"); k {
	case obx.PlaceATM, obx.PlaceBranch:
		nq.Kind = k
	default:
		return nq, perr(pcodeInvalidParam, "kind must be atm or branch.")
	}
	if q.Get("lat") == "" || q.Get("lon") == "" {
		return nq, perr(pcodeInvalidParam, "lat and lon are required.")
	}
	var err error
	if nq.From.Lat, err = floatParam(q, "lat", 0, -90, 90); err != nil {
		return nq, err
	}
	if nq.From.Lon, err = floatParam(q, "lon", 0, -180, 180); err != nil {
		return nq, err
	}
	if nq.RadiusM, err = floatParam(q, "radius_m", 1000, 1, 100_000); err != nil {
		return nq, err
	}
	if nq.Services, err = listParam(q, "service", tokenRE, "service names such as fx or deposit"); err != nil {
		return nq, err
	}
	if nq.Access, err = listParam(q, "accessibility", tokenRE, "features such as wheelchair"); err != nil {
		return nq, err
	}
	if nq.Banks, err = s.banksParam(q); err != nil {
		return nq, err
	}
	if nq.OpenAt, err = timeParam(q, "open_at"); err != nil {
		return nq, err
	}
	switch q.Get("open_now") {
	case "", "false":
	case "true":
		if !nq.OpenAt.IsZero() {
			return nq, perr(pcodeInvalidParam, "Give open_now or open_at, not both.")
		}
		nq.OpenAt = now
	default:
		return nq, perr(pcodeInvalidParam, "open_now must be true or false.")
	}
	pg, err := parsePage(q, 20, 100)
	nq.Offset, nq.Limit = pg.offset, pg.limit
	return nq, err
}

// compareFamilies maps the path's family to the domain's.
var compareFamilies = map[string]string{
	"deposits": obx.FamilyDeposits, "credit-cards": obx.FamilyCreditCards, "secured-loans": obx.FamilySecuredLoans,
	"unsecured-loans": obx.FamilyUnsecuredLoans, "funds": obx.FamilyFunds, "safe-deposit-boxes": obx.FamilySafeBoxes,
}

// compareQuery reads the parameters of GET /products/v1/compare/{family}.
func (s *Server) compareQuery(family string, q url.Values) (obx.CompareQuery, error) {
	cq := obx.CompareQuery{MaxAnnualFee: -1}
	var ok bool
	if cq.Family, ok = compareFamilies[family]; !ok {
		return cq, perr(pcodeNotFound, "No such family: deposits, credit-cards, secured-loans, unsecured-loans, funds or safe-deposit-boxes.")
	}
	var err error
	switch k := q.Get("kind"); k {
	case "", obx.DepositDemand, obx.DepositTime:
		cq.Kind = k
	default:
		return cq, perr(pcodeInvalidParam, "kind must be demand or time.")
	}
	if cq.Currency, err = currencyParam(q, "currency"); err != nil {
		return cq, err
	}
	if cq.TermMonths, err = intParam(q, "term_months", 0, 1, 600); err != nil {
		return cq, err
	}
	amount, err := intParam(q, "amount", 0, 1, 999_999_999_999)
	if err != nil {
		return cq, err
	}
	cq.Amount = int64(amount)
	if e := q.Get("eligibility"); e != "" {
		if !slices.Contains(obx.Eligibilities, e) {
			return cq, perr(pcodeInvalidParam, "eligibility must be one of "+strings.Join(obx.Eligibilities, ", ")+".")
		}
		cq.Eligibility = e
	}
	if cq.MaxRiskLevel, err = intParam(q, "max_risk_level", 0, 1, 5); err != nil {
		return cq, err
	}
	fee, err := intParam(q, "max_annual_fee", -1, 0, 10_000_000)
	if err != nil {
		return cq, err
	}
	cq.MaxAnnualFee = int64(fee)
	if cq.Banks, err = s.banksParam(q); err != nil {
		return cq, err
	}
	if o := q.Get("sort"); o != "" {
		if !slices.Contains(obx.CompareSorts[cq.Family], o) {
			return cq, perr(pcodeInvalidParam, "sort for "+family+" must be one of "+strings.Join(obx.CompareSorts[cq.Family], ", ")+".")
		}
		cq.Sort = o
	}
	pg, err := parsePage(q, 20, 100)
	cq.Offset, cq.Limit = pg.offset, pg.limit
	return cq, err
}

// bestRateQuery reads the parameters of GET /products/v1/exchange-rates/best.
func (s *Server) bestRateQuery(q url.Values) (obx.BestRateQuery, error) {
	var bq obx.BestRateQuery
	cur, err := listParam(q, "currency", currencyRE, "ISO 4217 codes such as USD,JPY")
	if err != nil {
		return bq, err
	}
	for _, c := range cur {
		if !obx.ValidCurrency(c) || c == obx.LocalCurrency {
			return bq, perr(pcodeInvalidParam, "currency "+c+" is not a foreign currency the hub knows.")
		}
	}
	bq.Currencies = cur
	switch bq.Type = q.Get("type"); bq.Type {
	case "":
		bq.Type = obx.RateCash
	case obx.RateCash, obx.RateSpot:
	default:
		return bq, perr(pcodeInvalidParam, "type must be cash or spot.")
	}
	switch bq.Side = q.Get("side"); bq.Side {
	case obx.SideBuy, obx.SideSell:
	default:
		return bq, perr(pcodeInvalidParam, "side must be sell (the bank sells: you buy the currency) or buy (the bank buys it from you).")
	}
	bq.Banks, err = s.banksParam(q)
	return bq, err
}
