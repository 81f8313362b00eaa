package obx_test

import (
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx"
)

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want obx.Decimal
		out  string
	}{
		{"3.55", 3_550_000, "3.55"},
		{"1380", 1_380_000_000, "1380"},
		{"0.000001", 1, "0.000001"},
		{"-0.1", -100_000, "-0.1"},
		{"1.700", 1_700_000, "1.7"},
	} {
		got, err := obx.ParseDecimal(tc.in)
		if err != nil || got != tc.want || got.String() != tc.out {
			t.Errorf("ParseDecimal(%q) = %d (%s), %v; want %d (%s)", tc.in, got, got, err, tc.want, tc.out)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "1.2345678", "1e3", "abc", "--1", "1,5", "9999999999999"} {
		if _, err := obx.ParseDecimal(bad); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("ParseDecimal(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestOpenAt(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	weekdays := func(open, close int) []obx.Period {
		var ps []obx.Period
		for d := time.Monday; d <= time.Friday; d++ {
			ps = append(ps, obx.Period{Day: d, Open: open, Close: close})
		}
		return ps
	}
	holidays := obx.NewHolidaySet([]obx.Holiday{{Date: "2026-10-09", Name: "한글날"}}) // a Friday
	branch := obx.OpeningHours{Weekly: weekdays(9*60, 16*60), ClosedOnHolidays: true,
		Exceptions: []obx.HoursException{{Date: "2026-10-14", Closed: true, Reason: "내부 공사"},
			{Date: "2026-10-10", Periods: []obx.Period{{Open: 10 * 60, Close: 13 * 60}}}}}
	// Open every night 22:00 – 02:00 except on Sundays' evenings.
	var night []obx.Period
	for d := time.Monday; d <= time.Saturday; d++ {
		night = append(night, obx.Period{Day: d, Open: 22 * 60, Close: 2 * 60})
	}
	late := obx.OpeningHours{Weekly: night, ClosedOnHolidays: true}
	always := obx.OpeningHours{Always: true, Exceptions: []obx.HoursException{{Date: "2026-10-11", Closed: true}}}

	for _, tc := range []struct {
		name string
		h    obx.OpeningHours
		at   string
		utc  bool
		want bool
	}{
		{"weekday morning", branch, "2026-10-13 09:00", false, true},
		{"before opening", branch, "2026-10-13 08:59", false, false},
		{"closing minute is closed", branch, "2026-10-13 16:00", false, false},
		{"holiday closes the branch", branch, "2026-10-09 11:00", false, false},
		{"exception closure", branch, "2026-10-14 11:00", false, false},
		{"exception opens a Saturday", branch, "2026-10-10 12:59", false, true},
		{"Sunday closed", branch, "2026-10-11 11:00", false, false},
		{"UTC instant read in KST", branch, "2026-10-13 00:30", true, true}, // 09:30 KST
		{"late: before midnight", late, "2026-10-13 23:59", false, true},
		{"late: after midnight, from yesterday", late, "2026-10-14 01:59", false, true},
		{"late: closes at 02:00", late, "2026-10-14 02:00", false, false},
		{"late: Sunday 01:00 continues Saturday night", late, "2026-10-11 01:00", false, true},
		{"late: Monday 01:00, no Sunday night", late, "2026-10-12 01:00", false, false},
		{"late: holiday evening closed", late, "2026-10-09 23:00", false, false},
		{"late: after a holiday, nothing carries over", late, "2026-10-10 01:00", false, false},
		{"late: a holiday's early hours carry the previous night", late, "2026-10-09 01:00", false, true},
		{"always", always, "2026-10-09 03:00", false, true},
		{"always, but closed by exception", always, "2026-10-11 03:00", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := at(tc.at)
			if tc.utc {
				tm, _ = time.Parse("2006-01-02 15:04", tc.at)
			}
			if got := tc.h.OpenAt(tm, seoul, holidays); got != tc.want {
				t.Errorf("OpenAt(%s) = %v, want %v", tm, got, tc.want)
			}
		})
	}
}

// validCatalog is a small catalog with one record of every family.
func validCatalog() *obx.Catalog {
	hours := obx.OpeningHours{Weekly: []obx.Period{{Day: time.Monday, Open: 540, Close: 960}}, ClosedOnHolidays: true}
	return &obx.Catalog{
		BankCode: "088", BankName: "신한은행", TimeZone: "Asia/Seoul",
		Holidays: []obx.Holiday{{Date: "2026-01-01", Name: "신정"}},
		Deposits: []obx.Deposit{{Code: "TD1", Name: "정기예금", Kind: obx.DepositTime, Currency: "USD",
			Tiers:          []obx.RateTier{{TermMonths: 12, MinAmount: 100_00, Rate: 4_100_000}},
			InterestMethod: obx.InterestSimple, CreditFrequency: "maturity", DayCountBasis: 365,
			Eligibility: []string{"individual"}}},
		Loans: []obx.Loan{{Code: "C1", Name: "카드", Kind: obx.LoanCard, Currency: "KRW", RateType: "fixed",
			RateMin: 5_000_000, RateMax: 19_900_000, CardScheme: "VISA", AnnualFee: 15000}},
		Branches: []obx.Branch{{Code: "0880001", Name: "본점", Location: obx.Location{Lat: 37.56, Lon: 126.97}, Hours: hours}},
		ATMs:     []obx.ATM{{Code: "A1", Name: "본점 ATM", Location: obx.Location{Lat: 37.56, Lon: 126.97}, Hours: obx.OpeningHours{Always: true}}},
		SafeDepositBoxes: []obx.SafeDepositBox{{Code: "S", Name: "소형", HeightCM: 10, WidthCM: 25, DepthCM: 50,
			AnnualRent: 50000, Deposit: 100000, Currency: "KRW", Branches: []string{"0880001"}}},
		Funds: []obx.Fund{{Code: "F1", Name: "펀드", RiskLevel: 3, Currency: "KRW", ManagementFee: 800_000}},
	}
}

func TestCatalogValidate(t *testing.T) {
	if ps := validCatalog().Validate(); len(ps) != 0 {
		t.Fatalf("valid catalog: %v", ps)
	}
	bad := validCatalog()
	bad.Branches = append(bad.Branches, obx.Branch{Code: "0880002", Name: "부산", Location: obx.Location{Lat: 135, Lon: 129},
		Hours: obx.OpeningHours{Always: true}})
	bad.Deposits[0].Currency = "US$"
	bad.Funds[0].RiskLevel = 6
	bad.SafeDepositBoxes[0].Branches = []string{"0889999"}
	bad.ATMs = append(bad.ATMs, bad.ATMs[0])
	ps := bad.Validate()
	want := []string{"deposits[0] (TD1) currency", "branches[1] (0880002) location", "atms[1] (A1) code",
		"safeDepositBoxes[0] (S) branches", "funds[0] (F1) riskLevel"}
	var got []string
	for _, p := range ps {
		got = append(got, p.Record+" "+p.Field)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
	err := obx.RejectError("catalog", ps)
	if obx.ErrorCode(err) != obx.EINVALID || obx.ReportOf(err) == nil || len(obx.ReportOf(err).Problems) != len(ps) {
		t.Errorf("RejectError = %v", err)
	}
}

func TestRateBoardValidate(t *testing.T) {
	b := &obx.RateBoard{BankCode: "088", QuotedAt: time.Now(), Rates: []obx.ExchangeRate{
		{Currency: "USD", Unit: 1, CashBuy: 1_360_000_000, CashSell: 1_400_000_000, SpotBuy: 1_370_000_000, SpotSell: 1_390_000_000},
		{Currency: "KRW", Unit: 1, CashBuy: 1, CashSell: 1, SpotBuy: 1, SpotSell: 1},
		{Currency: "JPY", Unit: 100, CashBuy: 950_000_000, CashSell: 900_000_000, SpotBuy: 1, SpotSell: 2},
	}}
	ps := b.Validate()
	if len(ps) != 2 || ps[0].Record != "rates[1] (KRW)" || ps[1].Record != "rates[2] (JPY)" || ps[1].Field != "cash" {
		t.Errorf("problems = %v", ps)
	}
}

func TestDepositRateFor(t *testing.T) {
	d := obx.Deposit{Kind: obx.DepositTime, Tiers: []obx.RateTier{
		{TermMonths: 6, Rate: 3_000_000},
		{TermMonths: 12, MaxAmount: 9_999_999, Rate: 3_200_000},
		{TermMonths: 12, MinAmount: 10_000_000, Rate: 3_400_000},
	}}
	for _, tc := range []struct {
		term   int
		amount int64
		want   obx.Decimal
		ok     bool
	}{{12, 5_000_000, 3_200_000, true}, {12, 10_000_000, 3_400_000, true}, {12, 0, 3_400_000, true},
		{6, 1, 3_000_000, true}, {24, 1, 0, false}} {
		got, ok := d.RateFor(tc.term, tc.amount)
		if ok != tc.ok || got.Rate != tc.want {
			t.Errorf("RateFor(%d, %d) = %v, %v", tc.term, tc.amount, got, ok)
		}
	}
}
