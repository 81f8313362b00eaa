package fisc

import (
	"fmt"
	"slices"
	"time"

	"github.com/obxhub/obx"
)

// From domain to wire.

func fees(fs []obx.Fee) []Fee {
	out := make([]Fee, 0, len(fs))
	for _, f := range fs {
		w := Fee{Name: f.Name, Amount: f.Amount, Currency: f.Currency, Condition: f.Condition}
		if f.Rate != 0 {
			w.Rate = dec(f.Rate)
		}
		out = append(out, w)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FromDeposit returns d on the wire.
func FromDeposit(d *obx.Deposit) Deposit {
	w := Deposit{ProductCode: d.Code, ProductName: d.Name, DepositType: d.Kind, Currency: d.Currency,
		InterestCalculation: InterestCalculation{Method: d.InterestMethod, CreditFrequency: d.CreditFrequency, DayCountBasis: d.DayCountBasis},
		Eligibility:         nonNil(d.Eligibility), MinAmount: d.MinAmount, Fees: fees(d.Fees), Description: d.Description,
		InterestRates: []RateTier{}}
	for _, t := range d.Tiers {
		w.InterestRates = append(w.InterestRates, FromTier(t))
	}
	return w
}

// FromTier returns t on the wire.
func FromTier(t obx.RateTier) RateTier {
	w := RateTier{TermMonths: t.TermMonths, MinAmount: t.MinAmount, Rate: dec(t.Rate)}
	if t.MaxAmount != 0 {
		m := t.MaxAmount
		w.MaxAmount = &m
	}
	return w
}

// FromLoan returns l on the wire.
func FromLoan(l *obx.Loan) Loan {
	w := Loan{ProductCode: l.Code, ProductName: l.Name, SubType: l.SubType, Currency: l.Currency,
		LoanCondition: LoanCondition{RateType: l.RateType, RateMin: dec(l.RateMin), RateMax: dec(l.RateMax),
			TermMaxMonths: l.TermMaxMonths, AmountMin: l.AmountMin, AmountMax: l.AmountMax, RepaymentMethod: l.Repayment},
		LoanEligibility: LoanEligibility{MinAge: l.Eligibility.MinAge, MaxAge: l.Eligibility.MaxAge,
			MinAnnualIncome: l.Eligibility.MinAnnualIncome, Segments: nonNil(l.Eligibility.Segments), Documents: l.Eligibility.Documents},
		Benefits: []Benefit{}, LoanFeeDetail: fees(l.Fees), CardScheme: l.CardScheme}
	for _, b := range l.Benefits {
		w.Benefits = append(w.Benefits, Benefit(b))
	}
	if l.Kind == obx.LoanSecured {
		w.Collateral = &Collateral{Type: l.Collateral, LTVMax: dec(l.LTVMax)}
	}
	if l.Kind == obx.LoanCard {
		fee := l.AnnualFee
		w.AnnualFee = &fee
	}
	return w
}

// FromSafeDepositBox returns s on the wire.
func FromSafeDepositBox(s *obx.SafeDepositBox) SafeDepositBox {
	return SafeDepositBox{ProductCode: s.Code,
		SafeBoxType:        SafeBoxType{Name: s.Name, HeightCM: s.HeightCM, WidthCM: s.WidthCM, DepthCM: s.DepthCM},
		SafeBoxEligibility: SafeBoxEligibility{Applicants: nonNil(s.Eligibility), Documents: nonNil(s.Documents)},
		SafeBoxFee:         SafeBoxFee{AnnualRent: s.AnnualRent, Deposit: s.Deposit, Currency: s.Currency},
		Branches:           nonNil(s.Branches)}
}

func fromHours(h *obx.OpeningHours) ServiceTime {
	w := ServiceTime{Always: h.Always, ClosedOnHolidays: h.ClosedOnHolidays}
	for _, p := range h.Weekly {
		w.Weekly = append(w.Weekly, Period{Day: weekdays[p.Day], Open: obx.Clock(p.Open), Close: obx.Clock(p.Close)})
	}
	for _, e := range h.Exceptions {
		we := HoursException{Date: e.Date, Closed: e.Closed, Reason: e.Reason}
		for _, p := range e.Periods {
			we.Periods = append(we.Periods, Period{Open: obx.Clock(p.Open), Close: obx.Clock(p.Close)})
		}
		w.Exceptions = append(w.Exceptions, we)
	}
	return w
}

func fromAddress(a obx.Address) Address { return Address(a) }

// FromBranch returns b on the wire.
func FromBranch(b *obx.Branch) Branch {
	return Branch{BranchCode: b.Code, BranchName: b.Name,
		BranchLocation:    Location{Coordinate: Coordinate{b.Location.Lat, b.Location.Lon}, Address: fromAddress(b.Address)},
		BranchBasicInfo:   BranchBasicInfo{Phone: b.Phone, Services: nonNil(b.Services), Accessibility: nonNil(b.Accessibility)},
		BranchServiceTime: fromHours(&b.Hours)}
}

// FromATM returns a on the wire.
func FromATM(a *obx.ATM) ATM {
	return ATM{ATMCode: a.Code, ATMName: a.Name,
		ATMLocation:    Location{Coordinate: Coordinate{a.Location.Lat, a.Location.Lon}, Address: fromAddress(a.Address), PlaceName: a.Place},
		ATMBasicInfo:   ATMBasicInfo{Functions: nonNil(a.Services), Currencies: a.Currencies, Accessibility: nonNil(a.Accessibility), Network: a.Network},
		ATMServiceTime: fromHours(&a.Hours)}
}

// FromFund returns f on the wire.
func FromFund(f *obx.Fund) Fund {
	w := Fund{FundCode: f.Code, FundName: f.Name, RiskLevel: RiskLevel(f.RiskLevel),
		FundDetail: FundDetail{Type: f.Type, Currency: f.Currency, FundCompany: f.Company, InceptionDate: f.InceptionDate,
			NAVDate: f.NAVDate, DividendPolicy: f.DividendPolicy},
		FundFeeDetail: FundFeeDetail{SubscriptionFee: dec(f.SubscriptionFee), ManagementFee: dec(f.ManagementFee),
			CustodyFee: dec(f.CustodyFee), RedemptionFee: dec(f.RedemptionFee)}}
	if f.NAV != 0 {
		w.FundDetail.NAV = dec(f.NAV)
	}
	return w
}

// FromExchangeRate returns r on the wire.
func FromExchangeRate(r obx.ExchangeRate) ExchangeRate {
	return ExchangeRate{Currency: r.Currency, CurrencyName: CurrencyNames[r.Currency], Unit: r.Unit,
		BaseExchangeRate: []BaseExchangeRate{{RateType: obx.RateCash, Buy: dec(r.CashBuy), Sell: dec(r.CashSell)},
			{RateType: obx.RateSpot, Buy: dec(r.SpotBuy), Sell: dec(r.SpotSell)}}}
}

// FromRateBoard returns b on the wire.
func FromRateBoard(b *obx.RateBoard) RateBoard {
	w := RateBoard{BankCode: b.BankCode, QuoteTime: rfc3339(b.QuotedAt), ExchangeRates: []ExchangeRate{}}
	for _, r := range b.Rates {
		w.ExchangeRates = append(w.ExchangeRates, FromExchangeRate(r))
	}
	return w
}

// FromCatalog returns c on the wire.
func FromCatalog(c *obx.Catalog) Catalog {
	w := Catalog{BankCode: c.BankCode, BankName: c.BankName, TimeZone: c.TimeZone, UpdateTime: rfc3339(c.UpdatedAt),
		Holidays: []Holiday{}, Deposits: []Deposit{}, CreditCards: []Loan{}, SecuredLoans: []Loan{}, NoSecuredLoans: []Loan{},
		SafeDepositBoxes: []SafeDepositBox{}, Branches: []Branch{}, ATMs: []ATM{}, Funds: []Fund{}}
	for _, h := range c.Holidays {
		w.Holidays = append(w.Holidays, Holiday(h))
	}
	for i := range c.Deposits {
		w.Deposits = append(w.Deposits, FromDeposit(&c.Deposits[i]))
	}
	for i := range c.Loans {
		l := &c.Loans[i]
		switch l.Kind {
		case obx.LoanCard:
			w.CreditCards = append(w.CreditCards, FromLoan(l))
		case obx.LoanSecured:
			w.SecuredLoans = append(w.SecuredLoans, FromLoan(l))
		default:
			w.NoSecuredLoans = append(w.NoSecuredLoans, FromLoan(l))
		}
	}
	for i := range c.SafeDepositBoxes {
		w.SafeDepositBoxes = append(w.SafeDepositBoxes, FromSafeDepositBox(&c.SafeDepositBoxes[i]))
	}
	for i := range c.Branches {
		w.Branches = append(w.Branches, FromBranch(&c.Branches[i]))
	}
	for i := range c.ATMs {
		w.ATMs = append(w.ATMs, FromATM(&c.ATMs[i]))
	}
	for i := range c.Funds {
		w.Funds = append(w.Funds, FromFund(&c.Funds[i]))
	}
	return w
}

// From wire to domain: every field that does not parse becomes a Problem
// of its record; the domain's Validate checks the rest.

type reader struct{ ps []obx.Problem }

func (r *reader) add(record, field, msg string) {
	r.ps = append(r.ps, obx.Problem{Record: record, Field: field, Message: msg})
}

func (r *reader) decimal(record, field, s string) obx.Decimal {
	if s == "" {
		return 0
	}
	d, err := obx.ParseDecimal(s)
	if err != nil {
		r.add(record, field, fmt.Sprintf("%q is not a decimal number", s))
	}
	return d
}

func (r *reader) fees(record string, ws []Fee) []obx.Fee {
	var out []obx.Fee
	for i, w := range ws {
		out = append(out, obx.Fee{Name: w.Name, Amount: w.Amount, Currency: w.Currency, Condition: w.Condition,
			Rate: r.decimal(record, fmt.Sprintf("fees[%d].rate", i), w.Rate)})
	}
	return out
}

func (r *reader) hours(record string, w ServiceTime) obx.OpeningHours {
	h := obx.OpeningHours{Always: w.Always, ClosedOnHolidays: w.ClosedOnHolidays}
	clock := func(field, s string) int {
		m, err := obx.ParseClock(s)
		if err != nil {
			r.add(record, field, fmt.Sprintf("%q is not a time HH:MM", s))
		}
		return m
	}
	for i, p := range w.Weekly {
		field := fmt.Sprintf("serviceTime.weekly[%d]", i)
		day := slices.Index(weekdays, p.Day)
		if day < 0 {
			r.add(record, field+".day", fmt.Sprintf("%q is not one of Mon … Sun", p.Day))
		}
		h.Weekly = append(h.Weekly, obx.Period{Day: time.Weekday(max(day, 0)), Open: clock(field+".open", p.Open), Close: clock(field+".close", p.Close)})
	}
	for i, e := range w.Exceptions {
		he := obx.HoursException{Date: e.Date, Closed: e.Closed, Reason: e.Reason}
		for j, p := range e.Periods {
			field := fmt.Sprintf("serviceTime.exceptions[%d].periods[%d]", i, j)
			he.Periods = append(he.Periods, obx.Period{Open: clock(field+".open", p.Open), Close: clock(field+".close", p.Close)})
		}
		h.Exceptions = append(h.Exceptions, he)
	}
	return h
}

func (r *reader) loan(record, kind string, w Loan) obx.Loan {
	l := obx.Loan{Code: w.ProductCode, Name: w.ProductName, Kind: kind, SubType: w.SubType, Currency: w.Currency,
		RateType: w.LoanCondition.RateType, RateMin: r.decimal(record, "loanCondition.rateMin", w.LoanCondition.RateMin),
		RateMax: r.decimal(record, "loanCondition.rateMax", w.LoanCondition.RateMax), TermMaxMonths: w.LoanCondition.TermMaxMonths,
		AmountMin: w.LoanCondition.AmountMin, AmountMax: w.LoanCondition.AmountMax, Repayment: w.LoanCondition.RepaymentMethod,
		Eligibility: obx.LoanEligibility{MinAge: w.LoanEligibility.MinAge, MaxAge: w.LoanEligibility.MaxAge,
			MinAnnualIncome: w.LoanEligibility.MinAnnualIncome, Segments: w.LoanEligibility.Segments, Documents: w.LoanEligibility.Documents},
		Fees: r.fees(record, w.LoanFeeDetail), CardScheme: w.CardScheme}
	for _, b := range w.Benefits {
		l.Benefits = append(l.Benefits, obx.Benefit(b))
	}
	if w.Collateral != nil {
		l.Collateral, l.LTVMax = w.Collateral.Type, r.decimal(record, "collateral.ltvMax", w.Collateral.LTVMax)
	}
	if w.AnnualFee != nil {
		l.AnnualFee = *w.AnnualFee
	}
	return l
}

// ToDomain returns the catalog w describes and every problem of its records:
// the fields it could not read, then what obx.Catalog.Validate finds, so one
// report names every bad record. With problems, it must not be published.
func (w *Catalog) ToDomain() (*obx.Catalog, []obx.Problem) {
	r := &reader{}
	c := &obx.Catalog{BankCode: w.BankCode, BankName: w.BankName, TimeZone: w.TimeZone}
	if w.UpdateTime != "" {
		t, err := time.Parse(time.RFC3339, w.UpdateTime)
		if err != nil {
			r.add("catalog", "updateTime", "must be an RFC 3339 time")
		}
		c.UpdatedAt = t.UTC()
	}
	for _, h := range w.Holidays {
		c.Holidays = append(c.Holidays, obx.Holiday(h))
	}
	for i, d := range w.Deposits {
		rec := fmt.Sprintf("deposits[%d] (%s)", i, d.ProductCode)
		od := obx.Deposit{Code: d.ProductCode, Name: d.ProductName, Kind: d.DepositType, Currency: d.Currency,
			InterestMethod: d.InterestCalculation.Method, CreditFrequency: d.InterestCalculation.CreditFrequency,
			DayCountBasis: d.InterestCalculation.DayCountBasis, Eligibility: d.Eligibility, MinAmount: d.MinAmount,
			Fees: r.fees(rec, d.Fees), Description: d.Description}
		for j, t := range d.InterestRates {
			tier := obx.RateTier{TermMonths: t.TermMonths, MinAmount: t.MinAmount, Rate: r.decimal(rec, fmt.Sprintf("interestRates[%d].rate", j), t.Rate)}
			if t.MaxAmount != nil {
				tier.MaxAmount = *t.MaxAmount
				if tier.MaxAmount == 0 {
					r.add(rec, fmt.Sprintf("interestRates[%d].maxAmount", j), "must be positive, or null for no upper bound")
				}
			}
			od.Tiers = append(od.Tiers, tier)
		}
		c.Deposits = append(c.Deposits, od)
	}
	for _, fam := range []struct {
		name, kind string
		list       []Loan
	}{{"creditCards", obx.LoanCard, w.CreditCards}, {"securedLoans", obx.LoanSecured, w.SecuredLoans}, {"noSecuredLoans", obx.LoanUnsecured, w.NoSecuredLoans}} {
		for i, l := range fam.list {
			c.Loans = append(c.Loans, r.loan(fmt.Sprintf("%s[%d] (%s)", fam.name, i, l.ProductCode), fam.kind, l))
		}
	}
	for _, s := range w.SafeDepositBoxes {
		c.SafeDepositBoxes = append(c.SafeDepositBoxes, obx.SafeDepositBox{Code: s.ProductCode, Name: s.SafeBoxType.Name,
			HeightCM: s.SafeBoxType.HeightCM, WidthCM: s.SafeBoxType.WidthCM, DepthCM: s.SafeBoxType.DepthCM,
			Eligibility: s.SafeBoxEligibility.Applicants, Documents: s.SafeBoxEligibility.Documents,
			AnnualRent: s.SafeBoxFee.AnnualRent, Deposit: s.SafeBoxFee.Deposit, Currency: s.SafeBoxFee.Currency, Branches: s.Branches})
	}
	for i, b := range w.Branches {
		rec := fmt.Sprintf("branches[%d] (%s)", i, b.BranchCode)
		c.Branches = append(c.Branches, obx.Branch{Code: b.BranchCode, Name: b.BranchName,
			Address: obx.Address(b.BranchLocation.Address), Location: obx.Location{Lat: b.BranchLocation.Coordinate.Latitude, Lon: b.BranchLocation.Coordinate.Longitude},
			Phone: b.BranchBasicInfo.Phone, Services: b.BranchBasicInfo.Services, Accessibility: b.BranchBasicInfo.Accessibility,
			Hours: r.hours(rec, b.BranchServiceTime)})
	}
	for i, a := range w.ATMs {
		rec := fmt.Sprintf("atms[%d] (%s)", i, a.ATMCode)
		c.ATMs = append(c.ATMs, obx.ATM{Code: a.ATMCode, Name: a.ATMName, Place: a.ATMLocation.PlaceName,
			Address: obx.Address(a.ATMLocation.Address), Location: obx.Location{Lat: a.ATMLocation.Coordinate.Latitude, Lon: a.ATMLocation.Coordinate.Longitude},
			Services: a.ATMBasicInfo.Functions, Currencies: a.ATMBasicInfo.Currencies, Accessibility: a.ATMBasicInfo.Accessibility,
			Network: a.ATMBasicInfo.Network, Hours: r.hours(rec, a.ATMServiceTime)})
	}
	for i, f := range w.Funds {
		rec := fmt.Sprintf("funds[%d] (%s)", i, f.FundCode)
		risk, ok := ParseRiskLevel(f.RiskLevel)
		if !ok {
			r.add(rec, "riskLevel", fmt.Sprintf("%q is not RR1 … RR5", f.RiskLevel))
		}
		c.Funds = append(c.Funds, obx.Fund{Code: f.FundCode, Name: f.FundName, RiskLevel: risk, Type: f.FundDetail.Type,
			Currency: f.FundDetail.Currency, Company: f.FundDetail.FundCompany, InceptionDate: f.FundDetail.InceptionDate,
			NAV: r.decimal(rec, "fundDetail.nav", f.FundDetail.NAV), NAVDate: f.FundDetail.NAVDate, DividendPolicy: f.FundDetail.DividendPolicy,
			SubscriptionFee: r.decimal(rec, "fundFeeDetail.subscriptionFee", f.FundFeeDetail.SubscriptionFee),
			ManagementFee:   r.decimal(rec, "fundFeeDetail.managementFee", f.FundFeeDetail.ManagementFee),
			CustodyFee:      r.decimal(rec, "fundFeeDetail.custodyFee", f.FundFeeDetail.CustodyFee),
			RedemptionFee:   r.decimal(rec, "fundFeeDetail.redemptionFee", f.FundFeeDetail.RedemptionFee)})
	}
	if len(r.ps) == 0 {
		return c, c.Validate()
	}
	return c, append(r.ps, c.Validate()...)
}

// ToDomain returns the board w describes and every problem of its lines:
// those it could not read, then what obx.RateBoard.Validate finds.
func (w *RateBoard) ToDomain() (*obx.RateBoard, []obx.Problem) {
	r := &reader{}
	b := &obx.RateBoard{BankCode: w.BankCode}
	t, err := time.Parse(time.RFC3339, w.QuoteTime)
	if err != nil {
		r.add("rates", "quoteTime", "must be an RFC 3339 time")
	}
	b.QuotedAt = t.UTC()
	for i, x := range w.ExchangeRates {
		rec := fmt.Sprintf("rates[%d] (%s)", i, x.Currency)
		er := obx.ExchangeRate{Currency: x.Currency, Unit: x.Unit}
		seen := map[string]bool{}
		for _, br := range x.BaseExchangeRate {
			buy, sell := r.decimal(rec, br.RateType+".buy", br.Buy), r.decimal(rec, br.RateType+".sell", br.Sell)
			switch br.RateType {
			case obx.RateCash:
				er.CashBuy, er.CashSell = buy, sell
			case obx.RateSpot:
				er.SpotBuy, er.SpotSell = buy, sell
			default:
				r.add(rec, "baseExchangeRate.rateType", fmt.Sprintf("%q is not cash or spot", br.RateType))
			}
			if seen[br.RateType] {
				r.add(rec, "baseExchangeRate", "rate type "+br.RateType+" given twice")
			}
			seen[br.RateType] = true
		}
		b.Rates = append(b.Rates, er)
	}
	if len(r.ps) == 0 {
		return b, b.Validate()
	}
	return b, append(r.ps, b.Validate()...)
}
