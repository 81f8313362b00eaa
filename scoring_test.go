package obx_test

import (
	"fmt"
	"testing"

	"github.com/obxhub/obx"
)

const bn = 1_000_000_000

// line returns the points of the breakdown line named item.
func line(t *testing.T, lines []obx.ScoreLine, item string) int {
	t.Helper()
	for _, l := range lines {
		if l.Item == item {
			return l.Points
		}
	}
	t.Fatalf("no line %q in %+v", item, lines)
	return 0
}

func TestSelfCertificationBrackets(t *testing.T) {
	type c struct {
		v    int64
		want int
	}
	items := []struct {
		item  string
		set   func(a *obx.Application, v int64)
		cases []c
	}{
		{"paid-in capital", func(a *obx.Application, v int64) { a.PaidInCapital = v },
			[]c{{0, 0}, {3*bn - 1, 0}, {3 * bn, 2}, {5*bn - 1, 2}, {5 * bn, 4}, {7*bn - 1, 4}, {7 * bn, 7}, {10*bn - 1, 7}, {10 * bn, 10}, {500 * bn, 10}}},
		{"annual revenue", func(a *obx.Application, v int64) { a.AnnualRevenue = v },
			[]c{{0, 0}, {2*bn - 1, 0}, {2 * bn, 2}, {5*bn - 1, 2}, {5 * bn, 4}, {10*bn - 1, 4}, {10 * bn, 7}, {40*bn - 1, 7}, {40 * bn, 10}}},
		{"years in business (e-finance)", func(a *obx.Application, v int64) { a.BusinessMonths = int(v) },
			[]c{{0, 0}, {23, 0}, {24, 2}, {35, 2}, {36, 4}, {47, 4}, {48, 7}, {59, 7}, {60, 10}, {240, 10}}},
		{"members", func(a *obx.Application, v int64) { a.Members = v },
			[]c{{0, 0}, {9_999, 0}, {10_000, 5}, {99_999, 5}, {100_000, 10}, {499_999, 10}, {500_000, 15}, {999_999, 15}, {1_000_000, 20}}},
	}
	for _, it := range items {
		for _, tc := range it.cases {
			t.Run(fmt.Sprintf("%s=%d", it.item, tc.v), func(t *testing.T) {
				a := &obx.Application{}
				it.set(a, tc.v)
				if got := line(t, obx.ScoreSelfCertification(a).Lines, it.item); got != tc.want {
					t.Errorf("points = %d, want %d", got, tc.want)
				}
			})
		}
	}
	for rating, want := range map[string]int{"AAA": 20, "AA": 20, "A": 20, "BBB": 15, "BB": 15, "B": 10, "CCC": 10, "CC": 5, "C": 5, "D": 0, "NG": 0, "": 0} {
		a := &obx.Application{CreditRating: rating}
		if got := line(t, obx.ScoreSelfCertification(a).Lines, "credit rating"); got != want {
			t.Errorf("self-cert credit rating %q = %d, want %d", rating, got, want)
		}
		if got := line(t, obx.ScoreGuarantee(a, 0).Lines, "credit rating"); got != -want {
			t.Errorf("guarantee credit rating %q = %d, want %d", rating, got, -want)
		}
	}
	for _, tc := range []struct {
		licences []string
		want     int
	}{
		{nil, 0}, {[]string{obx.LicenceFinancial}, 10}, {[]string{obx.LicencePrepaidDebit}, 10},
		{[]string{obx.LicenceEFinanceOther}, 0}, {[]string{obx.LicenceOverseasRemittance}, 0},
	} {
		if got := line(t, obx.ScoreSelfCertification(&obx.Application{Licences: tc.licences}).Lines, "licence held"); got != tc.want {
			t.Errorf("licence %v = %d, want %d", tc.licences, got, tc.want)
		}
	}
}

func TestSelfCertificationEligibility(t *testing.T) {
	// 20 + 10 + 10 + 10 + 20 + 10 + 10 + 10 = 100: the best file.
	best := obx.Application{CreditRating: "AAA", PaidInCapital: 10 * bn, AnnualRevenue: 40 * bn, BusinessMonths: 60,
		Members: 1_000_000, Licences: []string{obx.LicenceFinancial}, AML: true, ComplaintHandling: true}
	tests := []struct {
		name     string
		edit     func(a *obx.Application)
		total    int
		eligible bool
	}{
		{"best", func(a *obx.Application) {}, 100, true},
		{"no AML is never eligible", func(a *obx.Application) { a.AML = false }, 90, false},
		// 20 (A) + 2 (3bn) + 4 (5bn) + 4 (36 months) + 20 + 0 (no licence) + 10 (AML) + 0 = 60.
		{"exactly 60", func(a *obx.Application) {
			a.CreditRating, a.PaidInCapital, a.AnnualRevenue, a.Licences, a.ComplaintHandling = "A", 3*bn, 5*bn, nil, false
			a.BusinessMonths, a.Members = 36, 1_000_000
		}, 60, true},
		{"58 is not enough", func(a *obx.Application) {
			a.CreditRating, a.PaidInCapital, a.AnnualRevenue, a.Licences, a.ComplaintHandling = "A", 3*bn, 5*bn, nil, false
			a.BusinessMonths, a.Members = 35, 1_000_000 // 20 + 2 + 4 + 2 + 20 + 0 + 10 + 0 = 58
		}, 58, false},
		{"small TSPs cannot self-certify", func(a *obx.Application) { a.PaidInCapital = 2*bn - 1 }, 90, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := best
			tc.edit(&a)
			s := obx.ScoreSelfCertification(&a)
			if s.Total != tc.total || s.Eligible != tc.eligible {
				t.Errorf("total %d eligible %v (%s), want %d %v; lines %+v", s.Total, s.Eligible, s.Reason, tc.total, tc.eligible, s.Lines)
			}
			if !s.Eligible && s.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestGuaranteeDeductionBrackets(t *testing.T) {
	type c struct {
		v    int64
		want int
	}
	items := []struct {
		item  string
		set   func(a *obx.Application, v int64)
		cases []c
	}{
		{"paid-in capital", func(a *obx.Application, v int64) { a.PaidInCapital = v },
			[]c{{0, 0}, {2*bn - 1, 0}, {2 * bn, 5}, {5*bn - 1, 5}, {5 * bn, 10}, {10*bn - 1, 10}, {10 * bn, 15}, {20*bn - 1, 15}, {20 * bn, 20}}},
		{"annual revenue", func(a *obx.Application, v int64) { a.AnnualRevenue = v },
			[]c{{0, 0}, {2*bn - 1, 0}, {2 * bn, 5}, {5*bn - 1, 5}, {5 * bn, 10}, {10*bn - 1, 10}, {10 * bn, 15}, {50*bn - 1, 15}, {50 * bn, 20}}},
		{"years in business", func(a *obx.Application, v int64) { a.BusinessMonths = int(v) },
			[]c{{0, 0}, {23, 0}, {24, 2}, {35, 2}, {36, 4}, {47, 4}, {48, 7}, {59, 7}, {60, 10}}},
		{"service period", func(a *obx.Application, v int64) { a.ServiceMonths = int(v) },
			[]c{{0, 0}, {23, 0}, {24, 2}, {35, 2}, {36, 4}, {47, 4}, {48, 7}, {59, 7}, {60, 10}}},
		{"members", func(a *obx.Application, v int64) { a.Members = v },
			[]c{{0, 0}, {9_999, 0}, {10_000, 2}, {99_999, 2}, {100_000, 5}, {499_999, 5}, {500_000, 10}, {999_999, 10}, {1_000_000, 20}}},
		{"transactions in last year", func(a *obx.Application, v int64) { a.AnnualTransactions = v },
			[]c{{0, 0}, {99_999, 0}, {100_000, 2}, {999_999, 2}, {1_000_000, 5}, {4_999_999, 5}, {5_000_000, 10}, {9_999_999, 10}, {10_000_000, 20}}},
	}
	for _, it := range items {
		for _, tc := range it.cases {
			t.Run(fmt.Sprintf("%s=%d", it.item, tc.v), func(t *testing.T) {
				a := &obx.Application{}
				it.set(a, tc.v)
				if got := line(t, obx.ScoreGuarantee(a, 0).Lines, it.item); got != -tc.want {
					t.Errorf("points = %d, want %d", got, -tc.want)
				}
			})
		}
	}
	for _, tc := range []struct {
		licences []string
		want     int
	}{
		{nil, 0}, {[]string{obx.LicenceFinancial}, 0}, {[]string{obx.LicenceEFinanceOther}, 10},
		{[]string{obx.LicenceOverseasRemittance}, 10}, {[]string{obx.LicencePrepaidDebit}, 30},
		{[]string{obx.LicenceEFinanceOther, obx.LicencePrepaidDebit}, 30}, // the highest one only
	} {
		if got := line(t, obx.ScoreGuarantee(&obx.Application{Licences: tc.licences}, 0).Lines, "licence held (highest)"); got != -tc.want {
			t.Errorf("licence %v = %d, want %d", tc.licences, got, -tc.want)
		}
	}
}

func TestGuaranteeAdditionsAndPercent(t *testing.T) {
	// A file with every control in place and nothing to deduct scores 0.
	clean := obx.Application{AML: true, ComplaintHandling: true, AccountVerification: true}
	tests := []struct {
		name  string
		edit  func(a *obx.Application)
		vulns int
		total int
	}{
		{"clean", func(*obx.Application) {}, 0, 0},
		{"no complaint handling", func(a *obx.Application) { a.ComplaintHandling = false }, 0, 20},
		{"no AML", func(a *obx.Application) { a.AML = false }, 0, 20},
		{"no 1-won verification", func(a *obx.Application) { a.AccountVerification = false }, 0, 30},
		{"three vulnerabilities", func(*obx.Application) {}, 3, 30},
		{"everything missing", func(a *obx.Application) { *a = obx.Application{} }, 2, 90},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := clean
			tc.edit(&a)
			if s := obx.ScoreGuarantee(&a, tc.vulns); s.Total != tc.total {
				t.Errorf("total %d, want %d: %+v", s.Total, tc.total, s.Lines)
			}
		})
	}
	for _, tc := range []struct{ score, pct int }{
		{-190, 100}, {-100, 100}, {-99, 150}, {-51, 150}, {-50, 200}, {0, 200}, {50, 200},
		{51, 250}, {99, 250}, {100, 300}, {130, 300},
	} {
		if got := obx.GuaranteePercent(tc.score); got != tc.pct {
			t.Errorf("GuaranteePercent(%d) = %d, want %d", tc.score, got, tc.pct)
		}
	}
	// The strongest file: every deduction at its maximum, no addition.
	strong := obx.Application{CreditRating: "AAA", PaidInCapital: 20 * bn, AnnualRevenue: 50 * bn, BusinessMonths: 60,
		ServiceMonths: 60, Members: 1_000_000, AnnualTransactions: 10_000_000, Licences: []string{obx.LicencePrepaidDebit},
		AML: true, ComplaintHandling: true, AccountVerification: true}
	if s := obx.ScoreGuarantee(&strong, 0); s.Total != -150 || s.Percent != 100 {
		t.Errorf("strongest file: %d → %d%%, want -150 → 100%%", s.Total, s.Percent)
	}
	if got := obx.InsuredAmount(100_000_000, 250); got != 250_000_000 {
		t.Errorf("InsuredAmount = %d", got)
	}
}

func TestBreakdownValues(t *testing.T) {
	s := obx.ScoreGuarantee(&obx.Application{PaidInCapital: 2_000_000_000}, 0)
	if got := s.Lines[1].Value; got != "2,000,000,000 KRW" {
		t.Errorf("capital rendered %q", got)
	}
}
