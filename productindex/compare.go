package productindex

import (
	"cmp"
	"slices"
	"strings"

	"github.com/obxhub/obx"
)

// Compare answers a CompareQuery: every matching product of the family across
// the selected banks, in the requested order, one page of it. Ties are broken
// by bank and product code so that pages are stable. Callers validate the
// query (family, sort); an unknown family matches nothing.
func (ix *Index) Compare(q obx.CompareQuery) obx.CompareResult {
	banks, mod := ix.load().selected(q.Banks)
	var ms []obx.ProductMatch
	for _, b := range banks {
		c := b.Catalog
		m := obx.ProductMatch{BankCode: c.BankCode, BankName: c.BankName}
		switch q.Family {
		case obx.FamilyDeposits:
			for i := range c.Deposits {
				d := &c.Deposits[i]
				if q.Kind != "" && d.Kind != q.Kind || q.Currency != "" && d.Currency != q.Currency ||
					!eligible(d.Eligibility, q.Eligibility) || q.Amount != 0 && q.Amount < d.MinAmount {
					continue
				}
				tier, ok := d.RateFor(q.TermMonths, q.Amount)
				if !ok {
					continue
				}
				m.Deposit, m.Tier = d, tier
				ms = append(ms, m)
			}
		case obx.FamilyCreditCards, obx.FamilySecuredLoans, obx.FamilyUnsecuredLoans:
			kind := map[string]string{obx.FamilyCreditCards: obx.LoanCard, obx.FamilySecuredLoans: obx.LoanSecured,
				obx.FamilyUnsecuredLoans: obx.LoanUnsecured}[q.Family]
			for i := range c.Loans {
				l := &c.Loans[i]
				if l.Kind != kind || q.Currency != "" && l.Currency != q.Currency || !eligible(l.Eligibility.Segments, q.Eligibility) ||
					q.Amount != 0 && (q.Amount < l.AmountMin || q.Amount > l.AmountMax) ||
					q.TermMonths != 0 && l.Kind != obx.LoanCard && q.TermMonths > l.TermMaxMonths ||
					q.MaxAnnualFee >= 0 && l.Kind == obx.LoanCard && l.AnnualFee > q.MaxAnnualFee {
					continue
				}
				m.Loan = l
				ms = append(ms, m)
			}
		case obx.FamilyFunds:
			for i := range c.Funds {
				f := &c.Funds[i]
				if q.Currency != "" && f.Currency != q.Currency || q.MaxRiskLevel != 0 && f.RiskLevel > q.MaxRiskLevel {
					continue
				}
				m.Fund = f
				ms = append(ms, m)
			}
		case obx.FamilySafeBoxes:
			for i := range c.SafeDepositBoxes {
				s := &c.SafeDepositBoxes[i]
				if !eligible(s.Eligibility, q.Eligibility) {
					continue
				}
				m.Box = s
				ms = append(ms, m)
			}
		}
	}
	order := q.Sort
	if sorts := obx.CompareSorts[q.Family]; order == "" && len(sorts) > 0 {
		order = sorts[0]
	}
	by := sortKey(q.Family, order)
	slices.SortFunc(ms, func(a, b obx.ProductMatch) int {
		if c := by(a, b); c != 0 {
			return c
		}
		if c := strings.Compare(a.BankCode, b.BankCode); c != 0 {
			return c
		}
		return strings.Compare(productCode(a), productCode(b))
	})
	res := obx.CompareResult{Total: len(ms), Modified: mod}
	if q.Offset < len(ms) {
		res.Matches = ms[q.Offset:min(len(ms), q.Offset+q.Limit)]
	}
	return res
}

// eligible reports whether a product open to segments admits want. A product
// that names no segment is open to individuals.
func eligible(segments []string, want string) bool {
	if want == "" {
		return true
	}
	if len(segments) == 0 {
		return want == "individual"
	}
	return slices.Contains(segments, want)
}

func productCode(m obx.ProductMatch) string {
	switch {
	case m.Deposit != nil:
		return m.Deposit.Code
	case m.Loan != nil:
		return m.Loan.Code
	case m.Fund != nil:
		return m.Fund.Code
	case m.Box != nil:
		return m.Box.Code
	}
	return ""
}

func productName(m obx.ProductMatch) string {
	switch {
	case m.Deposit != nil:
		return m.Deposit.Name
	case m.Loan != nil:
		return m.Loan.Name
	case m.Fund != nil:
		return m.Fund.Name
	case m.Box != nil:
		return m.Box.Name
	}
	return ""
}

// sortKey returns the comparison of an order: best first.
func sortKey(family, order string) func(a, b obx.ProductMatch) int {
	switch {
	case order == "name":
		return func(a, b obx.ProductMatch) int { return strings.Compare(productName(a), productName(b)) }
	case family == obx.FamilyDeposits && order == "rate":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(b.Tier.Rate, a.Tier.Rate) } // highest first
	case family == obx.FamilyDeposits && order == "minAmount":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Deposit.MinAmount, b.Deposit.MinAmount) }
	case family == obx.FamilyCreditCards && order == "annualFee":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Loan.AnnualFee, b.Loan.AnnualFee) }
	case order == "rate" && (family == obx.FamilyCreditCards || family == obx.FamilySecuredLoans || family == obx.FamilyUnsecuredLoans):
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Loan.RateMin, b.Loan.RateMin) } // lowest first
	case order == "amount":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(b.Loan.AmountMax, a.Loan.AmountMax) } // largest first
	case order == "risk":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Fund.RiskLevel, b.Fund.RiskLevel) }
	case order == "fee":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Fund.ManagementFee, b.Fund.ManagementFee) }
	case order == "rent":
		return func(a, b obx.ProductMatch) int { return cmp.Compare(a.Box.AnnualRent, b.Box.AnnualRent) }
	}
	return func(a, b obx.ProductMatch) int { return 0 }
}
