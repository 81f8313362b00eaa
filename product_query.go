package obx

import "time"

// Queries across banks' product data, answered from the in-memory index
// (package productindex) rather than the database.

// Kinds of places.
const (
	PlaceBranch = "branch"
	PlaceATM    = "atm"
)

// NearbyQuery asks for the branches or ATMs nearest to a point.
type NearbyQuery struct {
	Kind     string // PlaceBranch or PlaceATM
	From     Location
	RadiusM  float64   // only places at most this far, in metres
	OpenAt   time.Time // zero: open or not
	Services []string  // every one must be offered
	Access   []string  // every accessibility feature must be present
	Banks    []string  // empty: every bank
	Offset   int
	Limit    int
}

// Place is a branch or an ATM found by a NearbyQuery.
type Place struct {
	BankCode  string
	BankName  string
	Branch    *Branch // set for branches
	ATM       *ATM    // set for ATMs
	DistanceM float64
}

// NearbyResult is one page of places, nearest first.
type NearbyResult struct {
	Places []Place
	More   bool // another page exists
	// Modified is the newest publication time of the banks searched.
	Modified time.Time
}

// Product families of comparisons and of the per-bank API.
const (
	FamilyDeposits       = "deposits"
	FamilyCreditCards    = "creditCards"
	FamilySecuredLoans   = "securedLoans"
	FamilyUnsecuredLoans = "noSecuredLoans"
	FamilyFunds          = "funds"
	FamilySafeBoxes      = "safeDepositBoxes"
)

// CompareSorts lists, per family, the orders a comparison accepts; the
// first is the default.
var CompareSorts = map[string][]string{
	FamilyDeposits:       {"rate", "minAmount", "name"},
	FamilyCreditCards:    {"annualFee", "rate", "name"},
	FamilySecuredLoans:   {"rate", "amount", "name"},
	FamilyUnsecuredLoans: {"rate", "amount", "name"},
	FamilyFunds:          {"risk", "fee", "name"},
	FamilySafeBoxes:      {"rent", "name"},
}

// CompareQuery asks for the products of one family across banks.
type CompareQuery struct {
	Family       string
	Kind         string // deposits: DepositDemand or DepositTime; "" both
	Currency     string // "" any
	TermMonths   int    // time deposits: 0 any; loans: the term must be allowed
	Amount       int64  // deposits: the tier must cover it; loans: within the amount range
	Eligibility  string // "" any; else the product must be open to this segment
	MaxRiskLevel int    // funds: 0 any
	MaxAnnualFee int64  // cards: -1 any
	Banks        []string
	Sort         string // one of CompareSorts[Family]; "" the default
	Offset       int
	Limit        int
}

// ProductMatch is one product in a comparison. Exactly one of the pointers
// is set, by family.
type ProductMatch struct {
	BankCode string
	BankName string
	Deposit  *Deposit
	Tier     RateTier // deposits: the tier that applies to the query
	Loan     *Loan
	Fund     *Fund
	Box      *SafeDepositBox
}

// CompareResult is one page of a comparison.
type CompareResult struct {
	Total    int
	Matches  []ProductMatch
	Modified time.Time
}

// Rate types and sides of an exchange-rate query. Sides are the bank's: the
// bank sells a currency to a customer who buys it, so the best "sell" rate
// is the lowest and the best "buy" rate the highest.
const (
	RateCash = "cash"
	RateSpot = "spot"
	SideBuy  = "buy"
	SideSell = "sell"
)

// BestRateQuery asks for the best exchange rate per currency across banks.
type BestRateQuery struct {
	Currencies []string // empty: every currency quoted
	Type       string   // RateCash or RateSpot
	Side       string   // SideBuy or SideSell
	Banks      []string
}

// RateQuote is one bank's rate for a currency.
type RateQuote struct {
	BankCode string
	BankName string
	Rate     Decimal // KRW per Unit
	Unit     int
	QuotedAt time.Time
}

// BestRate is the best quote for a currency, and every bank's, best first.
type BestRate struct {
	Currency string
	Quotes   []RateQuote
}

// BankProducts is one bank's data in service.
type BankProducts struct {
	Catalog  *Catalog
	Rates    *RateBoard // nil if the bank has published none
	Location *time.Location
}

// Modified returns the newest publication time of the bank's data.
func (b *BankProducts) Modified() time.Time {
	t := b.Catalog.PublishedAt
	if b.Rates != nil && b.Rates.PublishedAt.After(t) {
		t = b.Rates.PublishedAt
	}
	return t
}
