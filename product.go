package obx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // banks name their time zone; the hub must know it on any host
)

// Public product data (rules.md §3, fisc-api.md §7): what every participating
// bank publishes and any admitted TSP may read. None of it is personal data.
//
// A bank publishes its whole Catalog at once, and its exchange rates as a
// separate RateBoard, because rates change many times a day and the rest a
// few times a year. The hub validates each as a whole, keeps every version
// (so "the rate on date D" is answerable) and serves the current ones from an
// in-memory index.

// ScopeProducts is the institution scope of the public product-data API. A TSP
// gets it with the client_credentials grant; it reaches no personal data.
const ScopeProducts = "products"

// Deposit kinds.
const (
	DepositDemand = "demand" // 활기 / 수시입출금: no term
	DepositTime   = "time"   // 정기예금: a term in months
)

// Loan kinds. Credit cards sit among loans, as in FISC's grouping.
const (
	LoanCard      = "card"
	LoanSecured   = "secured"
	LoanUnsecured = "unsecured"
)

// Interest calculation methods and crediting frequencies of deposits.
const (
	InterestSimple   = "simple"
	InterestCompound = "compound"
)

// CreditFrequencies are the crediting frequencies a deposit may state.
var CreditFrequencies = []string{"monthly", "quarterly", "semiannual", "annual", "maturity"}

// Eligibilities are the customer segments a product may be open to.
var Eligibilities = []string{"individual", "business", "minor", "senior", "foreign_resident", "nonprofit"}

// LocalCurrency is the hub's home currency: deposits in it are "local", all
// others "foreign", and exchange rates are quoted in it.
const LocalCurrency = "KRW"

// Decimal is a fixed-point decimal with six fractional digits: 3.55 is
// Decimal(3_550_000). Interest rates (percent a year), exchange rates (KRW per
// unit) and fee percentages use it, so that they compare and sort exactly and
// travel as decimal strings; amounts of money are int64 minor units instead.
type Decimal int64

// DecimalScale is the number of units of a Decimal in 1.
const DecimalScale = 1_000_000

// ParseDecimal reads "-12.345678": an optional minus, digits, and at most six
// fractional digits. EINVALID otherwise.
func ParseDecimal(s string) (Decimal, error) {
	bad := Errorf(EINVALID, "%q is not a decimal number with at most six fractional digits.", s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 6 || dot && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	d := Decimal(w*DecimalScale + f)
	if neg {
		d = -d
	}
	return d, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats d with as few fractional digits as it needs: "3.55", "1380", "-0.1".
func (d Decimal) String() string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	s := sign + strconv.FormatInt(int64(d/DecimalScale), 10)
	if f := int64(d % DecimalScale); f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(f+DecimalScale, 10)[1:], "0")
	}
	return s
}

// Fee is a charge of a product: a fixed Amount in Currency, a Rate in percent,
// or both, under Condition.
type Fee struct {
	Name      string
	Amount    int64 // minor units of Currency; 0 when the fee is a rate
	Currency  string
	Rate      Decimal // percent; 0 when the fee is an amount
	Condition string
}

// RateTier is the interest rate a deposit pays for a term and an amount band.
type RateTier struct {
	TermMonths int   // 0 for demand deposits
	MinAmount  int64 // minor units, inclusive
	MaxAmount  int64 // minor units, inclusive; 0 means no upper bound
	Rate       Decimal
}

// Covers reports whether the tier applies to amount.
func (t RateTier) Covers(amount int64) bool {
	return amount >= t.MinAmount && (t.MaxAmount == 0 || amount <= t.MaxAmount)
}

// Deposit is a demand or time deposit product, in the local or a foreign currency.
type Deposit struct {
	Code            string
	Name            string
	Kind            string // DepositDemand or DepositTime
	Currency        string // ISO 4217
	Tiers           []RateTier
	InterestMethod  string // InterestSimple or InterestCompound
	CreditFrequency string // one of CreditFrequencies
	DayCountBasis   int    // 360 or 365
	Eligibility     []string
	MinAmount       int64 // minor units needed to open
	Fees            []Fee
	Description     string
}

// Foreign reports whether the deposit is in a foreign currency.
func (d *Deposit) Foreign() bool { return d.Currency != LocalCurrency }

// RateFor returns the tier that applies to a term (ignored for demand
// deposits) and an amount (0: the tier with the lowest minimum), and false if
// none does. Of several matching tiers the best rate wins.
func (d *Deposit) RateFor(termMonths int, amount int64) (RateTier, bool) {
	var best RateTier
	found := false
	for _, t := range d.Tiers {
		if d.Kind == DepositTime && termMonths != 0 && t.TermMonths != termMonths {
			continue
		}
		if amount != 0 && !t.Covers(amount) {
			continue
		}
		if !found || t.Rate > best.Rate {
			best, found = t, true
		}
	}
	return best, found
}

// LoanEligibility is who may apply for a loan or card.
type LoanEligibility struct {
	MinAge          int
	MaxAge          int   // 0: no limit
	MinAnnualIncome int64 // KRW
	Segments        []string
	Documents       []string
}

// Benefit is one feature or benefit of a product (card rights, bonuses, …).
type Benefit struct {
	Title       string
	Description string
}

// Loan is a credit card, a secured loan or an unsecured loan.
type Loan struct {
	Code          string
	Name          string
	Kind          string // LoanCard, LoanSecured or LoanUnsecured
	SubType       string // the bank's sub-type: 일반카드, 주택담보대출, …
	Currency      string
	RateType      string // "fixed" or "floating"
	RateMin       Decimal
	RateMax       Decimal
	TermMaxMonths int   // 0 for cards
	AmountMin     int64 // minor units
	AmountMax     int64
	Collateral    string  // secured loans: real_estate, vehicle, deposit, securities
	LTVMax        Decimal // secured loans: loan-to-value cap, percent
	Repayment     []string
	Eligibility   LoanEligibility
	Benefits      []Benefit
	Fees          []Fee
	CardScheme    string // cards: VISA, Mastercard, …
	AnnualFee     int64  // cards: KRW
}

// SafeDepositBox is one size of safe deposit box a bank rents out.
type SafeDepositBox struct {
	Code        string
	Name        string
	HeightCM    int
	WidthCM     int
	DepthCM     int
	Eligibility []string
	Documents   []string
	AnnualRent  int64 // minor units of Currency
	Deposit     int64 // refundable key deposit
	Currency    string
	Branches    []string // codes of the branches that offer it
}

// Location is a WGS 84 coordinate in degrees.
type Location struct {
	Lat float64
	Lon float64
}

// Address is a postal address.
type Address struct {
	City     string
	District string
	Line     string
	ZipCode  string
}

// Branch is a bank branch.
type Branch struct {
	Code          string // 7 characters, bank_code_sub
	Name          string
	Address       Address
	Location      Location
	Phone         string
	Hours         OpeningHours
	Services      []string
	Accessibility []string
}

// ATM is an automated teller machine.
type ATM struct {
	Code          string
	Name          string
	Place         string // where it stands: a branch, a station, a store
	Address       Address
	Location      Location
	Hours         OpeningHours
	Services      []string // withdrawal, deposit, transfer, fx, passbook
	Currencies    []string
	Accessibility []string
	Network       string
}

// Fund is an investment fund a bank sells.
type Fund struct {
	Code            string
	Name            string
	RiskLevel       int // 1 (lowest) … 5 (highest); RR1 … RR5 on the wire
	Type            string
	Currency        string
	Company         string
	InceptionDate   string // YYYY-MM-DD
	NAV             Decimal
	NAVDate         string // YYYY-MM-DD
	DividendPolicy  string
	SubscriptionFee Decimal // percent
	ManagementFee   Decimal // percent a year
	CustodyFee      Decimal // percent a year
	RedemptionFee   Decimal // percent
}

// Holiday is a day on which the bank's branches are closed.
type Holiday struct {
	Date string // YYYY-MM-DD in the bank's time zone
	Name string
}

// Catalog is one published version of one bank's product data: every family
// but exchange rates (see RateBoard). Version, Digest and PublishedAt are set
// by the hub when it stores the catalog.
type Catalog struct {
	BankCode string
	BankName string
	// TimeZone is the IANA zone of every opening hour and holiday; "" means
	// Asia/Seoul.
	TimeZone  string
	UpdatedAt time.Time // the bank's own timestamp of this content

	Version     int64     // 1, 2, … per bank, assigned by the hub
	Digest      string    // SHA-256 of the content (ContentDigest)
	PublishedAt time.Time // when the hub accepted it: Last-Modified

	Holidays         []Holiday
	Deposits         []Deposit
	Loans            []Loan
	SafeDepositBoxes []SafeDepositBox
	Branches         []Branch
	ATMs             []ATM
	Funds            []Fund
}

// DefaultTimeZone is the zone of a catalog that names none.
const DefaultTimeZone = "Asia/Seoul"

// Location returns the catalog's time zone; Asia/Seoul if it names none or
// an unknown one (validation refuses unknown zones).
func (c *Catalog) Location() *time.Location {
	name := c.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc, _ = time.LoadLocation(DefaultTimeZone)
	}
	return loc
}

// ContentDigest returns a SHA-256 of everything the bank published, ignoring
// the hub's bookkeeping (Version, Digest, PublishedAt) and the bank's
// UpdatedAt, so that republishing the same content is recognised as no change.
func (c *Catalog) ContentDigest() string {
	cp := *c
	cp.Version, cp.Digest, cp.PublishedAt, cp.UpdatedAt = 0, "", time.Time{}, time.Time{}
	b, _ := json.Marshal(&cp) // plain structs of strings and numbers: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ExchangeRate is a bank's board for one currency, in KRW per Unit of it.
// Buy and sell are the bank's: the bank buys the currency from a customer at
// the buy rate and sells it at the sell rate.
type ExchangeRate struct {
	Currency string
	Unit     int // 1, or 100 for currencies quoted per 100 (JPY, IDR, VND)
	CashBuy  Decimal
	CashSell Decimal
	SpotBuy  Decimal // telegraphic transfer (전신환) rates
	SpotSell Decimal
}

// RateBoard is one published set of a bank's exchange rates. PublishedAt is
// set by the hub.
type RateBoard struct {
	BankCode    string
	QuotedAt    time.Time // the bank's time of the quotes
	PublishedAt time.Time
	Rates       []ExchangeRate
}

// Rate returns the board's rate for currency.
func (b *RateBoard) Rate(currency string) (ExchangeRate, bool) {
	for _, r := range b.Rates {
		if r.Currency == currency {
			return r, true
		}
	}
	return ExchangeRate{}, false
}

// CatalogVersion describes one stored version of a bank's catalog.
type CatalogVersion struct {
	BankCode    string
	Version     int64
	Digest      string
	PublishedAt time.Time
}

// ProductHead is the newest catalog version and rate board of a bank, so
// that a replica can tell cheaply whether its index is stale.
type ProductHead struct {
	BankCode      string
	Version       int64
	RatesQuotedAt time.Time // zero if the bank has published no rates
}

// ProductStore keeps every published catalog version and rate board.
type ProductStore interface {
	// SaveCatalog stores c as its bank's next version and sets c.Version and
	// c.PublishedAt, unless the newest stored version has the same Digest:
	// then it stores nothing, sets c.Version to that version and returns
	// false. Concurrent saves for one bank get distinct, increasing versions.
	SaveCatalog(ctx context.Context, c *Catalog) (saved bool, err error)
	// Catalog returns the version of bank's catalog that was in service at
	// time at: the newest published at or before it (zero at: the newest).
	// ENOTFOUND if there is none.
	Catalog(ctx context.Context, bank string, at time.Time) (*Catalog, error)
	// CatalogVersions returns every version of bank's catalog, oldest first.
	CatalogVersions(ctx context.Context, bank string) ([]CatalogVersion, error)
	// SaveRates stores b and sets b.PublishedAt, unless a board of the bank
	// with the same QuotedAt is stored: then it returns false.
	SaveRates(ctx context.Context, b *RateBoard) (saved bool, err error)
	// Rates returns the board of bank in force at time at: the newest quoted
	// at or before it (zero at: the newest). ENOTFOUND if there is none.
	Rates(ctx context.Context, bank string, at time.Time) (*RateBoard, error)
	// ProductHeads returns the newest catalog version and rate board time of
	// every bank that has published either.
	ProductHeads(ctx context.Context) ([]ProductHead, error)
}

// CatalogSource is a bank that publishes product data for the hub to pull.
// Both simulated banks and the HTTP connector implement it. etag is the
// value the previous fetch returned ("" for none); when the content has not
// changed since, the source returns a fetch with NotModified set.
type CatalogSource interface {
	FetchCatalog(ctx context.Context, etag string) (*CatalogFetch, error)
	FetchRates(ctx context.Context, etag string) (*RatesFetch, error)
}

// CatalogFetch is the answer of CatalogSource.FetchCatalog.
type CatalogFetch struct {
	NotModified bool
	ETag        string
	Catalog     *Catalog  // nil when NotModified or when Problems is not empty
	Problems    []Problem // records the wire decoder could not read
}

// RatesFetch is the answer of CatalogSource.FetchRates.
type RatesFetch struct {
	NotModified bool
	ETag        string
	Board       *RateBoard
	Problems    []Problem
}
