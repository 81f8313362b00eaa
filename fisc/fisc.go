// Package fisc is the wire format of public product data: the JSON objects
// of the Taiwan FISC phase-1 Open API (fisc-api.md §7), named after E.SUN's
// published schema objects (branchLocation, atmServiceTime, loanCondition,
// fundFeeDetail, …) and completed from the HK and UK references where no
// Taiwan property name is public. Banks publish their catalogs to the hub in
// this format (docs/bank-protocol.md §7) and the hub serves TSPs in it
// (docs/products.md), so one set of structs carries both.
//
// Rates and percentages are decimal strings ("3.55"); amounts of money are
// JSON integers in minor units of their currency; opening hours are HH:MM in
// the catalog's time zone; times are RFC 3339.
//
// Decoding never trusts the sender: ToDomain returns every record it could
// not read as an obx.Problem, so that a bad feed gets a per-record report.
package fisc

import (
	"fmt"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// Catalog is a bank's whole catalog: the document of
// GET /bank/v1/products/catalog and PUT /hub/v1/banks/{code}/products/catalog.
type Catalog struct {
	BankCode         string           `json:"bankCode"`
	BankName         string           `json:"bankName"`
	TimeZone         string           `json:"timeZone,omitempty"`
	UpdateTime       string           `json:"updateTime,omitempty"` // RFC 3339
	Holidays         []Holiday        `json:"holidays"`
	Deposits         []Deposit        `json:"deposits"`
	CreditCards      []Loan           `json:"creditCards"`
	SecuredLoans     []Loan           `json:"securedLoans"`
	NoSecuredLoans   []Loan           `json:"noSecuredLoans"`
	SafeDepositBoxes []SafeDepositBox `json:"safeDepositBoxes"`
	Branches         []Branch         `json:"branches"`
	ATMs             []ATM            `json:"atms"`
	Funds            []Fund           `json:"funds"`
}

// Holiday is a day the bank's branches close.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name"`
}

// Fee is a charge: an amount, a rate, or both.
type Fee struct {
	Name      string `json:"name"`
	Amount    int64  `json:"amount,omitempty"`
	Currency  string `json:"currency,omitempty"`
	Rate      string `json:"rate,omitempty"` // percent
	Condition string `json:"condition,omitempty"`
}

// RateTier is a deposit's rate for a term and an amount band.
type RateTier struct {
	TermMonths int    `json:"termMonths,omitempty"`
	MinAmount  int64  `json:"minAmount"`
	MaxAmount  *int64 `json:"maxAmount"` // null: no upper bound
	Rate       string `json:"rate"`      // percent a year
}

// InterestCalculation is how a deposit's interest is computed and paid.
type InterestCalculation struct {
	Method          string `json:"method"`
	CreditFrequency string `json:"creditFrequency"`
	DayCountBasis   int    `json:"dayCountBasis"`
}

// Deposit is a demand or time deposit, local or foreign currency.
type Deposit struct {
	ProductCode         string              `json:"productCode"`
	ProductName         string              `json:"productName"`
	DepositType         string              `json:"depositType"` // demand or time
	Currency            string              `json:"currency"`
	InterestRates       []RateTier          `json:"interestRates"`
	InterestCalculation InterestCalculation `json:"interestCalculation"`
	Eligibility         []string            `json:"eligibility"`
	MinAmount           int64               `json:"minAmount"`
	Fees                []Fee               `json:"fees"`
	Description         string              `json:"description,omitempty"`
}

// LoanCondition is a loan's (or card's revolving credit's) terms.
type LoanCondition struct {
	RateType        string   `json:"rateType"`
	RateMin         string   `json:"rateMin"`
	RateMax         string   `json:"rateMax"`
	TermMaxMonths   int      `json:"termMaxMonths,omitempty"`
	AmountMin       int64    `json:"amountMin"`
	AmountMax       int64    `json:"amountMax"`
	RepaymentMethod []string `json:"repaymentMethod,omitempty"`
}

// LoanEligibility is who may apply.
type LoanEligibility struct {
	MinAge          int      `json:"minAge"`
	MaxAge          int      `json:"maxAge,omitempty"`
	MinAnnualIncome int64    `json:"minAnnualIncome,omitempty"`
	Segments        []string `json:"segments"`
	Documents       []string `json:"documents,omitempty"`
}

// Collateral is a secured loan's security.
type Collateral struct {
	Type   string `json:"type"`
	LTVMax string `json:"ltvMax"` // percent
}

// Benefit is a feature or benefit (cardRightInfo for cards).
type Benefit struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Loan is a credit card, secured loan or unsecured loan.
type Loan struct {
	ProductCode     string          `json:"productCode"`
	ProductName     string          `json:"productName"`
	SubType         string          `json:"subType,omitempty"` // 一般卡 / 주택담보대출 …
	Currency        string          `json:"currency"`
	LoanCondition   LoanCondition   `json:"loanCondition"`
	Collateral      *Collateral     `json:"collateral,omitempty"`
	LoanEligibility LoanEligibility `json:"loanEligibility"`
	Benefits        []Benefit       `json:"benefits"`
	LoanFeeDetail   []Fee           `json:"loanFeeDetail"`
	CardScheme      string          `json:"cardScheme,omitempty"`
	AnnualFee       *int64          `json:"annualFee,omitempty"` // cards
}

// SafeBoxType is a box size.
type SafeBoxType struct {
	Name     string `json:"name"`
	HeightCM int    `json:"heightCm"`
	WidthCM  int    `json:"widthCm"`
	DepthCM  int    `json:"depthCm"`
}

// SafeBoxEligibility is who may rent.
type SafeBoxEligibility struct {
	Applicants []string `json:"applicants"`
	Documents  []string `json:"documents"`
}

// SafeBoxFee is what renting costs.
type SafeBoxFee struct {
	AnnualRent int64  `json:"annualRent"`
	Deposit    int64  `json:"deposit"`
	Currency   string `json:"currency"`
}

// SafeDepositBox is one box size a bank rents out.
type SafeDepositBox struct {
	ProductCode        string             `json:"productCode"`
	SafeBoxType        SafeBoxType        `json:"safeBoxType"`
	SafeBoxEligibility SafeBoxEligibility `json:"safeBoxEligibility"`
	SafeBoxFee         SafeBoxFee         `json:"safeBoxFee"`
	Branches           []string           `json:"branches"`
}

// Coordinate is WGS 84 degrees.
type Coordinate struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// Address is a postal address.
type Address struct {
	City     string `json:"city"`
	District string `json:"district"`
	Line     string `json:"line"`
	ZipCode  string `json:"zipCode"`
}

// Location is where a branch or ATM is.
type Location struct {
	Coordinate Coordinate `json:"coordinate"`
	Address    Address    `json:"address"`
	PlaceName  string     `json:"placeName,omitempty"`
}

// Period is an opening span; close ≤ open ends on the next day.
type Period struct {
	Day   string `json:"day,omitempty"` // Mon … Sun; absent inside exceptions
	Open  string `json:"open"`          // HH:MM
	Close string `json:"close"`         // HH:MM, 24:00 allowed
}

// HoursException replaces the hours of one date.
type HoursException struct {
	Date    string   `json:"date"`
	Closed  bool     `json:"closed,omitempty"`
	Periods []Period `json:"periods,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// ServiceTime is a place's opening hours.
type ServiceTime struct {
	Always           bool             `json:"always,omitempty"`
	Weekly           []Period         `json:"weekly,omitempty"`
	Exceptions       []HoursException `json:"exceptions,omitempty"`
	ClosedOnHolidays bool             `json:"closedOnHolidays,omitempty"`
}

// BranchBasicInfo is a branch's contact and services.
type BranchBasicInfo struct {
	Phone         string   `json:"phone"`
	Services      []string `json:"services"`
	Accessibility []string `json:"accessibility"`
}

// Branch is a bank branch.
type Branch struct {
	BranchCode        string          `json:"branchCode"`
	BranchName        string          `json:"branchName"`
	BranchLocation    Location        `json:"branchLocation"`
	BranchBasicInfo   BranchBasicInfo `json:"branchBasicInfo"`
	BranchServiceTime ServiceTime     `json:"branchServiceTime"`
}

// ATMBasicInfo is what an ATM does.
type ATMBasicInfo struct {
	Functions     []string `json:"functions"`
	Currencies    []string `json:"currencies,omitempty"`
	Accessibility []string `json:"accessibility"`
	Network       string   `json:"network,omitempty"`
}

// ATM is an automated teller machine.
type ATM struct {
	ATMCode        string       `json:"atmCode"`
	ATMName        string       `json:"atmName"`
	ATMLocation    Location     `json:"atmLocation"`
	ATMBasicInfo   ATMBasicInfo `json:"atmBasicInfo"`
	ATMServiceTime ServiceTime  `json:"atmServiceTime"`
}

// FundDetail is a fund's information.
type FundDetail struct {
	Type           string `json:"type"`
	Currency       string `json:"currency"`
	FundCompany    string `json:"fundCompany"`
	InceptionDate  string `json:"inceptionDate,omitempty"`
	NAV            string `json:"nav,omitempty"`
	NAVDate        string `json:"navDate,omitempty"`
	DividendPolicy string `json:"dividendPolicy,omitempty"`
}

// FundFeeDetail is a fund's fees, in percent.
type FundFeeDetail struct {
	SubscriptionFee string `json:"subscriptionFee"`
	ManagementFee   string `json:"managementFee"`
	CustodyFee      string `json:"custodyFee"`
	RedemptionFee   string `json:"redemptionFee"`
}

// Fund is an investment fund.
type Fund struct {
	FundCode      string        `json:"fundCode"`
	FundName      string        `json:"fundName"`
	RiskLevel     string        `json:"riskLevel"` // RR1 … RR5
	FundDetail    FundDetail    `json:"fundDetail"`
	FundFeeDetail FundFeeDetail `json:"fundFeeDetail"`
}

// BaseExchangeRate is one rate type's pair.
type BaseExchangeRate struct {
	RateType string `json:"rateType"` // cash or spot
	Buy      string `json:"buy"`
	Sell     string `json:"sell"`
}

// ExchangeRate is one currency's board line, in KRW per unit.
type ExchangeRate struct {
	Currency         string             `json:"currency"`
	CurrencyName     string             `json:"currencyName,omitempty"`
	Unit             int                `json:"unit"`
	BaseExchangeRate []BaseExchangeRate `json:"baseExchangeRate"`
}

// RateBoard is a bank's exchange rates at one time: the document of
// GET /bank/v1/products/rates and PUT /hub/v1/banks/{code}/products/rates.
type RateBoard struct {
	BankCode      string         `json:"bankCode"`
	QuoteTime     string         `json:"quoteTime"` // RFC 3339
	ExchangeRates []ExchangeRate `json:"exchangeRates"`
}

// CurrencyNames are the Korean names of quoted currencies, the keys of
// GET /currency/list.
var CurrencyNames = map[string]string{
	"USD": "미국 달러", "JPY": "일본 엔", "EUR": "유로", "CNY": "중국 위안", "GBP": "영국 파운드", "AUD": "호주 달러",
	"CAD": "캐나다 달러", "CHF": "스위스 프랑", "HKD": "홍콩 달러", "SGD": "싱가포르 달러", "THB": "태국 바트",
	"VND": "베트남 동", "NZD": "뉴질랜드 달러", "TWD": "대만 달러", "KRW": "원",
}

var weekdays = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// dec formats a Decimal.
func dec(d obx.Decimal) string { return d.String() }

// rfc3339 formats t, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// RiskLevel formats a fund risk level 1…5 as RR1…RR5.
func RiskLevel(n int) string { return fmt.Sprintf("RR%d", n) }

// ParseRiskLevel reads RR1…RR5 or 1…5.
func ParseRiskLevel(s string) (int, bool) {
	s = strings.TrimPrefix(strings.ToUpper(s), "RR")
	if len(s) == 1 && s[0] >= '1' && s[0] <= '5' {
		return int(s[0] - '0'), true
	}
	return 0, false
}
