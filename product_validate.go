package obx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Problem is one thing wrong with one record of a published catalog or
// rate board, for the bank's per-record error report.
type Problem struct {
	Record  string // "branches[12] (0880012)", "catalog", "rates[2] (JPY)"
	Field   string // "location.latitude"; "" for the whole record
	Message string
}

// ValidationReport is the per-record report that rejects a publication. It
// travels as the cause of an EINVALID *Error: errors.As finds it.
type ValidationReport struct {
	Problems []Problem
	// Truncated is true when more problems than MaxProblems were found.
	Truncated bool
}

// MaxProblems bounds a report, so that a broken feed of a million records
// does not produce a million-line answer.
const MaxProblems = 200

// Error implements error.
func (r *ValidationReport) Error() string {
	if len(r.Problems) == 0 {
		return "no problems"
	}
	p := r.Problems[0]
	return fmt.Sprintf("%d problems; first: %s %s: %s", len(r.Problems), p.Record, p.Field, p.Message)
}

// ReportOf returns the validation report err carries, or nil.
func ReportOf(err error) *ValidationReport {
	var r *ValidationReport
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// RejectError returns the EINVALID error that rejects a publication with ps.
func RejectError(what string, ps []Problem) error {
	r := &ValidationReport{Problems: ps}
	if len(ps) > MaxProblems {
		r.Problems, r.Truncated = ps[:MaxProblems], true
	}
	return WrapError(EINVALID, fmt.Sprintf("The %s was rejected: %d records have problems; the previous version stays in service.", what, countRecords(ps)), r)
}

func countRecords(ps []Problem) int {
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.Record] = true
	}
	return len(seen)
}

// problems collects Problems.
type problems struct{ list []Problem }

func (r *problems) add(record, field, message string) {
	r.list = append(r.list, Problem{Record: record, Field: field, Message: message})
}

// currencies are the ISO 4217 codes the hub accepts: those Korean banks
// quote and sell products in.
var currencies = map[string]bool{
	"KRW": true, "USD": true, "EUR": true, "JPY": true, "CNY": true, "GBP": true, "AUD": true,
	"CAD": true, "CHF": true, "HKD": true, "SGD": true, "NZD": true, "SEK": true, "NOK": true,
	"DKK": true, "THB": true, "VND": true, "IDR": true, "MYR": true, "PHP": true, "TWD": true,
	"INR": true, "SAR": true, "AED": true, "KWD": true, "BHD": true, "QAR": true, "MXN": true,
	"BRL": true, "ZAR": true, "TRY": true, "RUB": true, "PLN": true, "CZK": true, "HUF": true,
	"ILS": true, "EGP": true, "MNT": true, "KZT": true, "PKR": true, "BDT": true, "NPR": true,
}

// ValidCurrency reports whether code is an ISO 4217 code the hub accepts.
func ValidCurrency(code string) bool { return currencies[code] }

// ValidLocation reports whether l is a coordinate on Earth. (0, 0), in the
// Gulf of Guinea, is refused: it is what a missing coordinate decodes to.
func ValidLocation(l Location) bool {
	return !math.IsNaN(l.Lat) && !math.IsNaN(l.Lon) && l.Lat >= -90 && l.Lat <= 90 &&
		l.Lon >= -180 && l.Lon <= 180 && (l.Lat != 0 || l.Lon != 0)
}

// maxExchangeRate bounds a quote (KRW per unit), far above any real one, so
// that comparisons across units cannot overflow.
const maxExchangeRate = 10_000_000 * DecimalScale

// maxRate bounds interest and fee rates: percent a year.
const maxRate = 100 * DecimalScale

// Validate checks the whole catalog and returns every problem found, in
// record order. An empty result means the catalog may be published.
func (c *Catalog) Validate() []Problem {
	r := &problems{}
	if len(c.BankCode) != 3 || !allDigits(c.BankCode) {
		r.add("catalog", "bankCode", "must be three digits")
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			r.add("catalog", "timeZone", "unknown IANA time zone")
		}
	}
	for i, h := range c.Holidays {
		if _, err := time.Parse(dateLayout, h.Date); err != nil {
			r.add(fmt.Sprintf("holidays[%d]", i), "date", "must be a date YYYY-MM-DD")
		}
	}
	codes := func(family string) func(i int, code, name string) string {
		seen := map[string]bool{}
		return func(i int, code, name string) string {
			rec := fmt.Sprintf("%s[%d] (%s)", family, i, code)
			switch {
			case code == "" || len(code) > 40:
				r.add(rec, "code", "must be 1 to 40 characters")
			case seen[code]:
				r.add(rec, "code", "another record of this family has the same code")
			}
			seen[code] = true
			if strings.TrimSpace(name) == "" {
				r.add(rec, "name", "is required")
			}
			return rec
		}
	}
	money := func(rec, field string, v int64) {
		if v < 0 {
			r.add(rec, field, "must not be negative")
		}
	}
	percent := func(rec, field string, d Decimal) {
		if d < 0 || d > maxRate {
			r.add(rec, field, "must be a percentage 0 … 100")
		}
	}
	currency := func(rec, field, code string) {
		if !ValidCurrency(code) {
			r.add(rec, field, fmt.Sprintf("%q is not an ISO 4217 currency code", code))
		}
	}
	segments := func(rec, field string, list []string) {
		for _, s := range list {
			if !slices.Contains(Eligibilities, s) {
				r.add(rec, field, fmt.Sprintf("%q is not one of %s", s, strings.Join(Eligibilities, ", ")))
			}
		}
	}
	fees := func(rec string, fs []Fee) {
		for i, f := range fs {
			field := fmt.Sprintf("fees[%d]", i)
			if f.Name == "" {
				r.add(rec, field+".name", "is required")
			}
			money(rec, field+".amount", f.Amount)
			percent(rec, field+".rate", f.Rate)
			if f.Amount != 0 {
				currency(rec, field+".currency", f.Currency)
			}
		}
	}

	deposit := codes("deposits")
	for i := range c.Deposits {
		d := &c.Deposits[i]
		rec := deposit(i, d.Code, d.Name)
		currency(rec, "currency", d.Currency)
		if d.Kind != DepositDemand && d.Kind != DepositTime {
			r.add(rec, "kind", "must be demand or time")
		}
		if len(d.Tiers) == 0 {
			r.add(rec, "rates", "at least one rate tier is required")
		}
		for j, t := range d.Tiers {
			field := fmt.Sprintf("rates[%d]", j)
			percent(rec, field+".rate", t.Rate)
			money(rec, field+".minAmount", t.MinAmount)
			if t.MaxAmount != 0 && t.MaxAmount < t.MinAmount {
				r.add(rec, field+".maxAmount", "is below minAmount")
			}
			switch {
			case d.Kind == DepositTime && (t.TermMonths < 1 || t.TermMonths > 600):
				r.add(rec, field+".termMonths", "a time deposit's term must be 1 … 600 months")
			case d.Kind == DepositDemand && t.TermMonths != 0:
				r.add(rec, field+".termMonths", "a demand deposit has no term")
			}
		}
		if d.InterestMethod != InterestSimple && d.InterestMethod != InterestCompound {
			r.add(rec, "interestMethod", "must be simple or compound")
		}
		if !slices.Contains(CreditFrequencies, d.CreditFrequency) {
			r.add(rec, "creditFrequency", "must be one of "+strings.Join(CreditFrequencies, ", "))
		}
		if d.DayCountBasis != 360 && d.DayCountBasis != 365 {
			r.add(rec, "dayCountBasis", "must be 360 or 365")
		}
		segments(rec, "eligibility", d.Eligibility)
		money(rec, "minAmount", d.MinAmount)
		fees(rec, d.Fees)
	}

	loanCodes := map[string]func(int, string, string) string{
		LoanCard: codes("creditCards"), LoanSecured: codes("securedLoans"), LoanUnsecured: codes("noSecuredLoans"),
	}
	for i := range c.Loans {
		l := &c.Loans[i]
		family, ok := loanCodes[l.Kind]
		if !ok {
			r.add(fmt.Sprintf("loans[%d] (%s)", i, l.Code), "kind", "must be card, secured or unsecured")
			continue
		}
		rec := family(i, l.Code, l.Name)
		currency(rec, "currency", l.Currency)
		percent(rec, "rateMin", l.RateMin)
		percent(rec, "rateMax", l.RateMax)
		if l.RateMax < l.RateMin {
			r.add(rec, "rateMax", "is below rateMin")
		}
		if l.RateType != "fixed" && l.RateType != "floating" {
			r.add(rec, "rateType", "must be fixed or floating")
		}
		money(rec, "amountMin", l.AmountMin)
		if l.AmountMax < l.AmountMin {
			r.add(rec, "amountMax", "is below amountMin")
		}
		switch l.Kind {
		case LoanCard:
			money(rec, "annualFee", l.AnnualFee)
			if l.CardScheme == "" {
				r.add(rec, "cardScheme", "is required for a card")
			}
		case LoanSecured:
			if l.Collateral == "" {
				r.add(rec, "collateral", "is required for a secured loan")
			}
			percent(rec, "ltvMax", l.LTVMax)
			fallthrough
		default:
			if l.TermMaxMonths < 1 || l.TermMaxMonths > 600 {
				r.add(rec, "termMaxMonths", "must be 1 … 600")
			}
		}
		if e := l.Eligibility; e.MinAge < 0 || e.MinAge > 120 || e.MaxAge != 0 && e.MaxAge < e.MinAge {
			r.add(rec, "eligibility", "ages must be 0 … 120 with maxAge ≥ minAge")
		}
		segments(rec, "eligibility.segments", l.Eligibility.Segments)
		fees(rec, l.Fees)
	}

	branch := codes("branches")
	branchCodes := map[string]bool{}
	place := func(rec string, loc Location, h *OpeningHours) {
		if !ValidLocation(loc) {
			r.add(rec, "location", "latitude must be -90 … 90 and longitude -180 … 180, not both 0")
		}
		h.validate(r, rec)
	}
	for i := range c.Branches {
		b := &c.Branches[i]
		rec := branch(i, b.Code, b.Name)
		branchCodes[b.Code] = true
		place(rec, b.Location, &b.Hours)
	}
	atm := codes("atms")
	for i := range c.ATMs {
		a := &c.ATMs[i]
		rec := atm(i, a.Code, a.Name)
		place(rec, a.Location, &a.Hours)
		for _, cur := range a.Currencies {
			currency(rec, "currencies", cur)
		}
	}
	box := codes("safeDepositBoxes")
	for i := range c.SafeDepositBoxes {
		s := &c.SafeDepositBoxes[i]
		rec := box(i, s.Code, s.Name)
		if s.HeightCM <= 0 || s.WidthCM <= 0 || s.DepthCM <= 0 {
			r.add(rec, "size", "height, width and depth must be positive")
		}
		money(rec, "annualRent", s.AnnualRent)
		money(rec, "deposit", s.Deposit)
		currency(rec, "currency", s.Currency)
		segments(rec, "eligibility", s.Eligibility)
		for _, code := range s.Branches {
			if !branchCodes[code] {
				r.add(rec, "branches", fmt.Sprintf("branch %q is not in the catalog", code))
			}
		}
	}
	fund := codes("funds")
	for i := range c.Funds {
		f := &c.Funds[i]
		rec := fund(i, f.Code, f.Name)
		if f.RiskLevel < 1 || f.RiskLevel > 5 {
			r.add(rec, "riskLevel", "must be 1 … 5 (RR1 … RR5)")
		}
		currency(rec, "currency", f.Currency)
		percent(rec, "subscriptionFee", f.SubscriptionFee)
		percent(rec, "managementFee", f.ManagementFee)
		percent(rec, "custodyFee", f.CustodyFee)
		percent(rec, "redemptionFee", f.RedemptionFee)
		if f.NAV < 0 {
			r.add(rec, "nav", "must not be negative")
		}
	}
	return r.list
}

// Validate checks the board as a whole and returns every problem found.
func (b *RateBoard) Validate() []Problem {
	r := &problems{}
	if len(b.BankCode) != 3 || !allDigits(b.BankCode) {
		r.add("rates", "bankCode", "must be three digits")
	}
	if b.QuotedAt.IsZero() {
		r.add("rates", "quotedAt", "is required")
	}
	seen := map[string]bool{}
	for i, x := range b.Rates {
		rec := fmt.Sprintf("rates[%d] (%s)", i, x.Currency)
		switch {
		case !ValidCurrency(x.Currency) || x.Currency == LocalCurrency:
			r.add(rec, "currency", fmt.Sprintf("%q is not a foreign ISO 4217 currency code", x.Currency))
		case seen[x.Currency]:
			r.add(rec, "currency", "another rate has the same currency")
		}
		seen[x.Currency] = true
		if x.Unit != 1 && x.Unit != 100 {
			r.add(rec, "unit", "must be 1 or 100")
		}
		for _, side := range []struct {
			name      string
			buy, sell Decimal
		}{{"cash", x.CashBuy, x.CashSell}, {"spot", x.SpotBuy, x.SpotSell}} {
			if side.buy <= 0 || side.sell <= 0 || side.buy > maxExchangeRate || side.sell > maxExchangeRate {
				r.add(rec, side.name, "buy and sell rates must be positive and at most 10,000,000 KRW")
			} else if side.buy > side.sell {
				r.add(rec, side.name, "the bank's buy rate is above its sell rate")
			}
		}
	}
	return r.list
}
