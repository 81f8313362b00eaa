package obx

import "fmt"

// Scoring of rules.md §5. Both scores are computed from an Application (and,
// for the guarantee, the security check) and come with a line-by-line
// breakdown, so that the center's staff and the TSP see why a number is what
// it is.
//
// Bracket bounds in the rules ("3–5bn", "2–3 years") are read as including
// their lower bound and excluding their upper one: 3bn exactly scores in
// "3–5bn", 5bn exactly in "5–7bn", and "≥10bn" starts at 10bn. Years are
// counted in whole months, so 2 years is 24 months.

// Amounts used by the brackets, in KRW.
const (
	billion = 1_000_000_000
	// LargeTSPCapital is the paid-in capital from which a TSP is large
	// (rules.md §5.3, §7): 2bn KRW.
	LargeTSPCapital = 2 * billion
	// SelfCertificationPass is the self-certification score that allows a
	// large TSP to certify its own customers' authentication (§5.1).
	SelfCertificationPass = 60
)

// Credit ratings an application may name. "NG" is no grade.
var CreditRatings = []string{"AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D", "NG"}

// Licences a TSP may hold (rules.md §5.1, §5.2).
const (
	LicenceFinancial          = "financial_company"   // a financial company (bank, securities, card …)
	LicencePrepaidDebit       = "prepaid_debit"       // prepaid or debit electronic payment means
	LicenceEFinanceOther      = "efinance_other"      // any other electronic-finance registration
	LicenceOverseasRemittance = "overseas_remittance" // small overseas remittance business
)

// Licences lists every licence, for forms and validation.
var Licences = []string{LicenceFinancial, LicencePrepaidDebit, LicenceEFinanceOther, LicenceOverseasRemittance}

// ScoreLine is one line of a score's breakdown.
type ScoreLine struct {
	Item   string // what was scored, e.g. "credit rating"
	Value  string // the application's value, e.g. "BBB"
	Points int    // points this line gives (negative for guarantee deductions)
	Max    int    // the most this item can give (in absolute value)
	Note   string // e.g. "not eligible"
}

// bracket is one step of a bracketed item: values from Min (inclusive) up to
// the next bracket's Min score Points.
type bracket struct {
	Min    int64
	Points int
}

// pointsFor returns the points of the last bracket whose Min is <= v.
// Brackets are sorted by Min and the first has the lowest Min.
func pointsFor(bs []bracket, v int64) int {
	p := 0
	for _, b := range bs {
		if v >= b.Min {
			p = b.Points
		}
	}
	return p
}

// creditPoints gives a credit rating's points; the same table serves both
// scores (§5.1, §5.2). Unknown ratings score 0 like D/NG.
func creditPoints(rating string) int {
	switch rating {
	case "AAA", "AA", "A":
		return 20
	case "BBB", "BB":
		return 15
	case "B", "CCC":
		return 10
	case "CC", "C":
		return 5
	}
	return 0
}

// The brackets of §5.1 (self-certification).
var (
	selfCapital = []bracket{{0, 0}, {3 * billion, 2}, {5 * billion, 4}, {7 * billion, 7}, {10 * billion, 10}}
	selfRevenue = []bracket{{0, 0}, {2 * billion, 2}, {5 * billion, 4}, {10 * billion, 7}, {40 * billion, 10}}
	selfMembers = []bracket{{0, 0}, {10_000, 5}, {100_000, 10}, {500_000, 15}, {1_000_000, 20}}
	// years brackets, in months; shared by both scores
	yearBrackets = []bracket{{0, 0}, {24, 2}, {36, 4}, {48, 7}, {60, 10}}
)

// The deduction brackets of §5.2 (guarantee).
var (
	guarCapital      = []bracket{{0, 0}, {2 * billion, 5}, {5 * billion, 10}, {10 * billion, 15}, {20 * billion, 20}}
	guarRevenue      = []bracket{{0, 0}, {2 * billion, 5}, {5 * billion, 10}, {10 * billion, 15}, {50 * billion, 20}}
	guarMembers      = []bracket{{0, 0}, {10_000, 2}, {100_000, 5}, {500_000, 10}, {1_000_000, 20}}
	guarTransactions = []bracket{{0, 0}, {100_000, 2}, {1_000_000, 5}, {5_000_000, 10}, {10_000_000, 20}}
)

// SelfCertScore is the self-certification score (rules.md §5.1).
type SelfCertScore struct {
	Lines []ScoreLine
	Total int
	// Eligible: the TSP may certify its own customers' authentication. It
	// needs an AML system, a total of at least SelfCertificationPass, and to
	// be large (paid-in capital ≥ 2bn KRW; §5.1 is for large TSPs).
	Eligible bool
	Reason   string // why not eligible, when not
}

// ScoreSelfCertification computes a's self-certification score.
func ScoreSelfCertification(a *Application) SelfCertScore {
	var s SelfCertScore
	add := func(item, value string, points, max int, note string) {
		s.Lines = append(s.Lines, ScoreLine{Item: item, Value: value, Points: points, Max: max, Note: note})
		s.Total += points
	}
	add("credit rating", orNone(a.CreditRating), creditPoints(a.CreditRating), 20, "")
	add("paid-in capital", krw(a.PaidInCapital), pointsFor(selfCapital, a.PaidInCapital), 10, "")
	add("annual revenue", krw(a.AnnualRevenue), pointsFor(selfRevenue, a.AnnualRevenue), 10, "")
	add("years in business (e-finance)", months(a.BusinessMonths), pointsFor(yearBrackets, int64(a.BusinessMonths)), 10, "")
	add("members", fmt.Sprint(a.Members), pointsFor(selfMembers, a.Members), 20, "")
	lic := 0
	if a.HasLicence(LicenceFinancial) || a.HasLicence(LicencePrepaidDebit) {
		lic = 10
	}
	add("licence held", licenceList(a), lic, 10, "")
	if a.AML {
		add("AML system", "operated", 10, 10, "")
	} else {
		add("AML system", "none", 0, 10, "not eligible")
	}
	if a.ComplaintHandling {
		add("customer complaint handling", "exists", 10, 10, "")
	} else {
		add("customer complaint handling", "none", 0, 10, "")
	}
	switch {
	case !a.AML:
		s.Reason = "No AML system: not eligible for self-certification."
	case a.PaidInCapital < LargeTSPCapital:
		s.Reason = "Not a large TSP (paid-in capital under 2bn KRW)."
	case s.Total < SelfCertificationPass:
		s.Reason = fmt.Sprintf("Score %d is below %d.", s.Total, SelfCertificationPass)
	default:
		s.Eligible = true
	}
	return s
}

// GuaranteeScore is the guarantee score (rules.md §5.2): additions minus
// deductions, which sets the insured share of the daily withdrawal limit.
type GuaranteeScore struct {
	Lines   []ScoreLine // deductions have negative points
	Total   int
	Percent int // 100, 150, 200, 250 or 300
}

// GuaranteePercent maps a guarantee score to the insured share of the daily
// withdrawal limit, in percent (§5.2).
func GuaranteePercent(score int) int {
	switch {
	case score <= -100:
		return 100
	case score <= -51:
		return 150
	case score <= 50:
		return 200
	case score <= 99:
		return 250
	}
	return 300
}

// ScoreGuarantee computes a's guarantee score. vulnerabilities is the number
// of items the security check found deficient in the fintech app's
// vulnerability part (§4.5 b): each adds 10 points.
func ScoreGuarantee(a *Application, vulnerabilities int) GuaranteeScore {
	var s GuaranteeScore
	line := func(item, value string, points, max int) {
		s.Lines = append(s.Lines, ScoreLine{Item: item, Value: value, Points: points, Max: max})
		s.Total += points
	}
	line("credit rating", orNone(a.CreditRating), -creditPoints(a.CreditRating), 20)
	line("paid-in capital", krw(a.PaidInCapital), -pointsFor(guarCapital, a.PaidInCapital), 20)
	line("annual revenue", krw(a.AnnualRevenue), -pointsFor(guarRevenue, a.AnnualRevenue), 20)
	line("years in business", months(a.BusinessMonths), -pointsFor(yearBrackets, int64(a.BusinessMonths)), 10)
	line("service period", months(a.ServiceMonths), -pointsFor(yearBrackets, int64(a.ServiceMonths)), 10)
	line("members", fmt.Sprint(a.Members), -pointsFor(guarMembers, a.Members), 20)
	line("transactions in last year", fmt.Sprint(a.AnnualTransactions), -pointsFor(guarTransactions, a.AnnualTransactions), 20)
	// The highest licence only. The table gives no points for a financial
	// company's licence on its own: it scores as unregistered.
	lic := 0
	switch {
	case a.HasLicence(LicencePrepaidDebit):
		lic = 30
	case a.HasLicence(LicenceEFinanceOther), a.HasLicence(LicenceOverseasRemittance):
		lic = 10
	}
	line("licence held (highest)", licenceList(a), -lic, 30)
	if !a.ComplaintHandling {
		line("no customer complaint handling", "none", 20, 20)
	}
	if !a.AML {
		line("no AML system", "none", 20, 20)
	}
	if vulnerabilities > 0 {
		line("deficient vulnerability-check items", fmt.Sprint(vulnerabilities), 10*vulnerabilities, 10*vulnerabilities)
	}
	if !a.AccountVerification {
		line("account-ownership verification (1-won transfer) not applied", "not applied", 30, 30)
	}
	s.Percent = GuaranteePercent(s.Total)
	return s
}

// InsuredAmount is the center guarantee's insured amount: the daily
// withdrawal limit times the guarantee percentage (§5.2).
func InsuredAmount(dailyWithdrawLimit int64, percent int) int64 {
	return dailyWithdrawLimit * int64(percent) / 100
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// krw renders an amount with digit grouping: "2,000,000,000 KRW".
func krw(v int64) string {
	d := fmt.Sprint(v)
	sign := ""
	if v < 0 {
		sign, d = "-", d[1:]
	}
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := range len(d) {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return sign + string(out) + " KRW"
}

func months(m int) string { return fmt.Sprintf("%dy %dm", m/12, m%12) }

func licenceList(a *Application) string {
	if len(a.Licences) == 0 {
		return "none"
	}
	s := ""
	for i, l := range a.Licences {
		if i > 0 {
			s += ", "
		}
		s += l
	}
	return s
}
