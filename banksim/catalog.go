package banksim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/obxhub/obx"
)

// Product data of simulated banks: a realistic catalog of every family,
// deterministic from the seed and the bank code, and exchange rates that
// move every RateInterval. The catalog never depends on the clock, so a hub
// pulling it again gets "not modified"; the rates do, so they change many
// times a day, as real boards do.

// CatalogOptions sizes a generated catalog.
type CatalogOptions struct {
	Branches int // default 120
	ATMs     int // default 300
}

// RateInterval is how often a simulated bank requotes its exchange rates.
const RateInterval = 10 * time.Minute

// city is a Korean city with the districts where places are generated.
type city struct {
	name      string
	weight    int // share of places, percent
	districts []district
}

type district struct {
	name     string
	lat, lon float64 // centre
	zip      string  // first digits of its postal codes
}

// cities are real district centres, so generated places fall in real
// neighbourhoods of Seoul, Busan, Incheon, Daegu, Daejeon and Gwangju.
var cities = []city{
	{"서울특별시", 45, []district{
		{"종로구", 37.5735, 126.9790, "030"}, {"중구", 37.5641, 126.9979, "045"}, {"용산구", 37.5326, 126.9905, "043"},
		{"성동구", 37.5634, 127.0369, "047"}, {"광진구", 37.5385, 127.0823, "049"}, {"동대문구", 37.5744, 127.0396, "025"},
		{"마포구", 37.5663, 126.9019, "039"}, {"서초구", 37.4837, 127.0324, "065"}, {"강남구", 37.5172, 127.0473, "060"},
		{"송파구", 37.5145, 127.1059, "055"}, {"영등포구", 37.5264, 126.8962, "072"}, {"강서구", 37.5509, 126.8495, "077"},
		{"관악구", 37.4784, 126.9516, "087"}, {"노원구", 37.6542, 127.0568, "017"}, {"은평구", 37.6027, 126.9291, "034"},
	}},
	{"부산광역시", 20, []district{
		{"중구", 35.1064, 129.0323, "489"}, {"부산진구", 35.1630, 129.0532, "472"}, {"해운대구", 35.1631, 129.1635, "480"},
		{"동래구", 35.2049, 129.0837, "477"}, {"남구", 35.1366, 129.0843, "485"}, {"사하구", 35.1046, 128.9749, "493"},
		{"연제구", 35.1762, 129.0799, "475"},
	}},
	{"인천광역시", 10, []district{
		{"남동구", 37.4470, 126.7315, "215"}, {"연수구", 37.4102, 126.6783, "219"}, {"부평구", 37.5070, 126.7219, "213"},
		{"미추홀구", 37.4635, 126.6505, "221"},
	}},
	{"대구광역시", 10, []district{
		{"중구", 35.8693, 128.6062, "419"}, {"수성구", 35.8581, 128.6305, "421"}, {"달서구", 35.8299, 128.5326, "426"},
		{"북구", 35.8858, 128.5828, "415"},
	}},
	{"대전광역시", 8, []district{
		{"서구", 36.3554, 127.3838, "352"}, {"유성구", 36.3622, 127.3562, "341"}, {"중구", 36.3255, 127.4213, "349"},
	}},
	{"광주광역시", 7, []district{
		{"서구", 35.1520, 126.8895, "619"}, {"북구", 35.1740, 126.9120, "611"}, {"광산구", 35.1395, 126.7937, "622"},
	}},
}

var streets = []string{"세종대로", "테헤란로", "을지로", "종로", "중앙대로", "해운대로", "달구벌대로", "계룡로", "무등로",
	"인주대로", "강남대로", "올림픽로", "양화로", "한강대로", "동대로", "번영로", "월드컵로", "도산대로"}

var atmPlaces = []string{"지하철역", "편의점", "대형마트", "백화점", "주민센터", "병원", "대학교", "버스터미널", "영화관", "아파트상가"}

// koreanHolidays are the public holidays of 2025 – 2027 on which banks close,
// with 31 December, when Korean banks close for the year-end.
var koreanHolidays = []obx.Holiday{
	{Date: "2025-01-01", Name: "신정"}, {Date: "2025-01-28", Name: "설날 연휴"}, {Date: "2025-01-29", Name: "설날"},
	{Date: "2025-01-30", Name: "설날 연휴"}, {Date: "2025-03-03", Name: "삼일절 대체공휴일"}, {Date: "2025-05-05", Name: "어린이날·부처님오신날"},
	{Date: "2025-05-06", Name: "대체공휴일"}, {Date: "2025-06-06", Name: "현충일"}, {Date: "2025-08-15", Name: "광복절"},
	{Date: "2025-10-03", Name: "개천절"}, {Date: "2025-10-06", Name: "추석"}, {Date: "2025-10-07", Name: "추석 연휴"},
	{Date: "2025-10-08", Name: "대체공휴일"}, {Date: "2025-10-09", Name: "한글날"}, {Date: "2025-12-25", Name: "성탄절"},
	{Date: "2025-12-31", Name: "연말 휴무"},
	{Date: "2026-01-01", Name: "신정"}, {Date: "2026-02-16", Name: "설날 연휴"}, {Date: "2026-02-17", Name: "설날"},
	{Date: "2026-02-18", Name: "설날 연휴"}, {Date: "2026-03-02", Name: "삼일절 대체공휴일"}, {Date: "2026-05-05", Name: "어린이날"},
	{Date: "2026-05-25", Name: "부처님오신날 대체공휴일"}, {Date: "2026-06-03", Name: "전국동시지방선거"},
	{Date: "2026-08-17", Name: "광복절 대체공휴일"}, {Date: "2026-09-24", Name: "추석 연휴"}, {Date: "2026-09-25", Name: "추석"},
	{Date: "2026-10-05", Name: "개천절 대체공휴일"}, {Date: "2026-10-09", Name: "한글날"}, {Date: "2026-12-25", Name: "성탄절"},
	{Date: "2026-12-31", Name: "연말 휴무"},
	{Date: "2027-01-01", Name: "신정"}, {Date: "2027-02-08", Name: "설날 대체공휴일"}, {Date: "2027-03-01", Name: "삼일절"},
	{Date: "2027-05-05", Name: "어린이날"}, {Date: "2027-05-13", Name: "부처님오신날"}, {Date: "2027-08-16", Name: "광복절 대체공휴일"},
	{Date: "2027-09-14", Name: "추석 연휴"}, {Date: "2027-09-15", Name: "추석"}, {Date: "2027-09-16", Name: "추석 연휴"},
	{Date: "2027-10-04", Name: "개천절 대체공휴일"}, {Date: "2027-10-11", Name: "한글날 대체공휴일"}, {Date: "2027-12-27", Name: "성탄절 대체공휴일"},
	{Date: "2027-12-31", Name: "연말 휴무"},
}

// catalogRand returns the generator of a bank's catalog: the same seed and
// code always give the same catalog.
func catalogRand(code string, seed int64, stream string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(code + "/" + stream))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// DemoCatalog returns the catalog of the simulated bank code, deterministic
// from seed: every product family, deposits in KRW and four foreign
// currencies, and branches and ATMs in six cities with opening hours,
// holidays and dated exceptions.
func DemoCatalog(code, name string, seed int64, opt CatalogOptions) *obx.Catalog {
	if opt.Branches == 0 {
		opt.Branches = 120
	}
	if opt.ATMs == 0 {
		opt.ATMs = 300
	}
	if name == "" {
		name = DemoBankName(code)
	}
	r := catalogRand(code, seed, "catalog")
	short := []rune(name)
	if len(short) > 2 {
		short = short[:2]
	}
	c := &obx.Catalog{
		BankCode: code, BankName: name, TimeZone: obx.DefaultTimeZone,
		UpdatedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Holidays:  koreanHolidays,
	}
	// A bank-wide tilt: some banks pay more on deposits and charge less on loans.
	tilt := obx.Decimal(r.IntN(41)-20) * 10_000 // -0.20 … +0.20 percentage points
	c.Deposits = demoDeposits(r, string(short), tilt)
	c.Loans = demoLoans(r, string(short), tilt)
	c.Funds = demoFunds(r)
	for i := 0; i < opt.Branches; i++ {
		c.Branches = append(c.Branches, demoBranch(r, code, i))
	}
	for i := 0; i < opt.ATMs; i++ {
		c.ATMs = append(c.ATMs, demoATM(r, code, i, c.Branches))
	}
	var boxBranches []string
	for _, b := range c.Branches {
		for _, s := range b.Services {
			if s == "safe_deposit_box" {
				boxBranches = append(boxBranches, b.Code)
			}
		}
	}
	for i, sz := range []struct {
		name    string
		h, w, d int
		rent    int64
	}{{"소형", 8, 25, 50, 50_000}, {"중형", 15, 25, 50, 80_000}, {"대형", 30, 25, 50, 150_000}} {
		c.SafeDepositBoxes = append(c.SafeDepositBoxes, obx.SafeDepositBox{
			Code: fmt.Sprintf("SDB%02d", i+1), Name: "대여금고 " + sz.name, HeightCM: sz.h, WidthCM: sz.w, DepthCM: sz.d,
			Eligibility: []string{"individual", "business"}, Documents: []string{"신분증", "인감 또는 서명"},
			AnnualRent: sz.rent + int64(r.IntN(5))*10_000, Deposit: 100_000, Currency: "KRW", Branches: boxBranches,
		})
	}
	return c
}

// pct returns a percentage given in hundredths (350: 3.50%) as a Decimal.
func pct(hundredths int) obx.Decimal { return obx.Decimal(hundredths) * 10_000 }

func demoDeposits(r *rand.Rand, short string, tilt obx.Decimal) []obx.Deposit {
	jit := func() obx.Decimal { return pct(r.IntN(21) - 10) }
	fees := []obx.Fee{{Name: "중도해지", Condition: "약정이율의 50% 적용"}}
	var ds []obx.Deposit
	ds = append(ds,
		obx.Deposit{Code: "KD01", Name: short + " 보통예금", Kind: obx.DepositDemand, Currency: "KRW",
			Tiers: []obx.RateTier{{Rate: pct(10)}}, InterestMethod: obx.InterestSimple, CreditFrequency: "semiannual",
			DayCountBasis: 365, Eligibility: []string{"individual", "business"}},
		obx.Deposit{Code: "KD02", Name: short + " 파킹통장", Kind: obx.DepositDemand, Currency: "KRW",
			Tiers:          []obx.RateTier{{MaxAmount: 50_000_000, Rate: pct(200) + tilt + jit()}, {MinAmount: 50_000_001, Rate: pct(50)}},
			InterestMethod: obx.InterestSimple, CreditFrequency: "monthly", DayCountBasis: 365, Eligibility: []string{"individual"}},
		obx.Deposit{Code: "KD03", Name: short + " 급여통장", Kind: obx.DepositDemand, Currency: "KRW",
			Tiers: []obx.RateTier{{Rate: pct(30)}}, InterestMethod: obx.InterestSimple, CreditFrequency: "quarterly",
			DayCountBasis: 365, Eligibility: []string{"individual"},
			Fees: []obx.Fee{{Name: "타행이체 수수료", Amount: 500, Currency: "KRW", Condition: "급여이체 실적 시 면제"}}},
	)
	timeDeposit := func(code, name, cur string, base int, terms []int, minAmt, tierAmt int64, elig []string) obx.Deposit {
		d := obx.Deposit{Code: code, Name: name, Kind: obx.DepositTime, Currency: cur, InterestMethod: obx.InterestSimple,
			CreditFrequency: "maturity", DayCountBasis: 365, Eligibility: elig, MinAmount: minAmt, Fees: fees}
		if cur == "JPY" || cur == "CNY" {
			d.DayCountBasis = 360
		}
		for _, term := range terms {
			// A normal yield curve with a little per-bank noise.
			rate := pct(base) + pct(int(25*math.Log2(float64(term)))) + tilt + jit()
			rate = max(rate, pct(1))
			d.Tiers = append(d.Tiers,
				obx.RateTier{TermMonths: term, MinAmount: minAmt, MaxAmount: tierAmt - 1, Rate: rate},
				obx.RateTier{TermMonths: term, MinAmount: tierAmt, Rate: rate + pct(10)})
		}
		return d
	}
	ds = append(ds,
		timeDeposit("KT01", short+" 정기예금", "KRW", 250, []int{1, 3, 6, 12, 24, 36}, 1_000_000, 100_000_000, []string{"individual", "business"}),
		timeDeposit("KT02", short+" 시니어 정기예금", "KRW", 270, []int{6, 12, 24}, 1_000_000, 50_000_000, []string{"senior"}),
		timeDeposit("KT03", short+" 청년 정기예금", "KRW", 280, []int{12}, 100_000, 10_000_000, []string{"individual"}),
	)
	for i, fx := range []struct {
		cur  string
		base int
		name string
	}{{"USD", 380, "미국 달러"}, {"EUR", 220, "유로"}, {"JPY", 5, "일본 엔"}, {"CNY", 110, "중국 위안"}} {
		minor := int64(100) // cents
		if fx.cur == "JPY" {
			minor = 1
		}
		ds = append(ds,
			obx.Deposit{Code: fmt.Sprintf("FD%02d", i+1), Name: short + " 외화보통예금 " + fx.name, Kind: obx.DepositDemand,
				Currency: fx.cur, Tiers: []obx.RateTier{{Rate: max(pct(fx.base/4)+jit()/2, 0)}}, InterestMethod: obx.InterestSimple,
				CreditFrequency: "quarterly", DayCountBasis: 365, Eligibility: []string{"individual", "business", "foreign_resident"},
				Fees: []obx.Fee{{Name: "외화현찰 입금 수수료", Rate: pct(150), Condition: "현찰 입금 시"}}},
			timeDeposit(fmt.Sprintf("FT%02d", i+1), short+" 외화정기예금 "+fx.name, fx.cur, fx.base, []int{1, 3, 6, 12},
				1_000*minor, 100_000*minor, []string{"individual", "business", "foreign_resident"}),
		)
	}
	return ds
}

func demoLoans(r *rand.Rand, short string, tilt obx.Decimal) []obx.Loan {
	var ls []obx.Loan
	schemes := []string{"VISA", "Mastercard", "BC", "AMEX", "JCB", "UnionPay"}
	cards := []struct {
		name, sub string
		fee       int64
	}{{"에브리데이", "일반카드", 10_000}, {"트래블", "일반카드", 15_000}, {"플래티넘", "플래티넘카드", 50_000},
		{"시그니처", "무한카드", 200_000}, {"알뜰 체크플러스", "일반카드", 0}, {"항공마일리지", "제휴카드", 30_000}}
	for i, cd := range cards {
		fee := cd.fee
		if fee > 0 {
			fee += int64(r.IntN(5)) * 1_000
		}
		ls = append(ls, obx.Loan{Code: fmt.Sprintf("CC%02d", i+1), Name: short + " " + cd.name + " 카드", Kind: obx.LoanCard,
			SubType: cd.sub, Currency: "KRW", RateType: "fixed", RateMin: pct(550 + r.IntN(200)), RateMax: pct(1990),
			AmountMin: 500_000, AmountMax: int64(10+r.IntN(40)) * 1_000_000, CardScheme: schemes[r.IntN(len(schemes))], AnnualFee: fee,
			Eligibility: obx.LoanEligibility{MinAge: 19, MinAnnualIncome: 20_000_000, Segments: []string{"individual"}, Documents: []string{"신분증", "소득증빙서류"}},
			Benefits: []obx.Benefit{{Title: "국내 가맹점 할인", Description: fmt.Sprintf("전월 실적 30만원 이상 시 %d%% 할인", 1+r.IntN(5))},
				{Title: "해외 이용 수수료", Description: "해외 결제 수수료 면제"}},
			Fees: []obx.Fee{{Name: "연회비", Amount: fee, Currency: "KRW"}, {Name: "해외이용 수수료", Rate: pct(100 + r.IntN(50))}},
		})
	}
	secured := []struct {
		name, collateral string
		rate, term       int
		max              int64
		ltv              int
	}{{"아파트 주택담보대출", "real_estate", 380, 480, 1_000_000_000, 70}, {"전세자금대출", "deposit", 360, 24, 500_000_000, 80},
		{"예금담보대출", "deposit", 420, 12, 300_000_000, 95}, {"자동차담보대출", "vehicle", 590, 60, 100_000_000, 60}}
	for i, s := range secured {
		base := pct(s.rate) - tilt + pct(r.IntN(30))
		ls = append(ls, obx.Loan{Code: fmt.Sprintf("SL%02d", i+1), Name: short + " " + s.name, Kind: obx.LoanSecured, SubType: s.name,
			Currency: "KRW", RateType: []string{"fixed", "floating"}[r.IntN(2)], RateMin: base, RateMax: base + pct(150),
			TermMaxMonths: s.term, AmountMin: 10_000_000, AmountMax: s.max, Collateral: s.collateral, LTVMax: pct(s.ltv * 100),
			Repayment:   []string{"원리금균등분할", "원금균등분할", "만기일시"},
			Eligibility: obx.LoanEligibility{MinAge: 19, Segments: []string{"individual"}, Documents: []string{"신분증", "담보물 서류", "소득증빙서류"}},
			Fees:        []obx.Fee{{Name: "중도상환수수료", Rate: pct(120), Condition: "3년 이내 상환 시"}},
		})
	}
	unsecured := []struct {
		name   string
		rate   int
		max    int64
		income int64
	}{{"직장인 신용대출", 450, 150_000_000, 30_000_000}, {"비상금대출", 690, 3_000_000, 0}, {"전문직 신용대출", 420, 300_000_000, 80_000_000}}
	for i, u := range unsecured {
		base := pct(u.rate) - tilt + pct(r.IntN(40))
		ls = append(ls, obx.Loan{Code: fmt.Sprintf("UL%02d", i+1), Name: short + " " + u.name, Kind: obx.LoanUnsecured, SubType: "일반신용대출",
			Currency: "KRW", RateType: "floating", RateMin: base, RateMax: base + pct(600), TermMaxMonths: 60,
			AmountMin: 1_000_000, AmountMax: u.max, Repayment: []string{"만기일시", "원리금균등분할"},
			Eligibility: obx.LoanEligibility{MinAge: 19, MinAnnualIncome: u.income, Segments: []string{"individual"}, Documents: []string{"신분증", "재직증명서"}},
			Benefits:    []obx.Benefit{{Title: "급여이체 우대", Description: "급여이체 시 연 0.2%p 우대"}},
			Fees:        []obx.Fee{{Name: "인지세", Amount: 75_000, Currency: "KRW", Condition: "대출금액 1억원 초과 시 (고객 50% 부담)"}},
		})
	}
	return ls
}

func demoFunds(r *rand.Rand) []obx.Fund {
	funds := []struct {
		name, typ, cur, company string
		risk                    int
	}{{"코리아 국공채 증권투자신탁", "채권형", "KRW", "한빛자산운용", 1}, {"단기채 MMF", "MMF", "KRW", "누리자산운용", 1},
		{"글로벌 채권 인컴", "해외채권형", "USD", "한빛자산운용", 2}, {"배당주 혼합형", "혼합형", "KRW", "다온자산운용", 3},
		{"코스피200 인덱스", "주식형", "KRW", "누리자산운용", 4}, {"미국 S&P500 인덱스", "해외주식형", "USD", "다온자산운용", 4},
		{"아시아 신흥국 주식", "해외주식형", "KRW", "가람자산운용", 5}, {"글로벌 리츠 재간접", "재간접형", "KRW", "가람자산운용", 3}}
	var fs []obx.Fund
	for i, f := range funds {
		fs = append(fs, obx.Fund{Code: fmt.Sprintf("FN%03d", i+1), Name: f.name, RiskLevel: f.risk, Type: f.typ, Currency: f.cur,
			Company: f.company, InceptionDate: fmt.Sprintf("20%02d-%02d-01", 10+r.IntN(14), 1+r.IntN(12)),
			NAV: obx.Decimal(800+r.IntN(1600)) * obx.DecimalScale, NAVDate: "2026-01-02", DividendPolicy: "재투자",
			SubscriptionFee: pct(r.IntN(3) * 50), ManagementFee: pct(20 + f.risk*25 + r.IntN(20)), CustodyFee: pct(2 + r.IntN(3)),
			RedemptionFee: pct([]int{0, 0, 70}[r.IntN(3)]),
		})
	}
	return fs
}

// spot places a point around a weighted random district of a weighted random city.
func spot(r *rand.Rand) (city, district, obx.Location) {
	n := r.IntN(100)
	ct := cities[len(cities)-1]
	for _, c := range cities {
		if n < c.weight {
			ct = c
			break
		}
		n -= c.weight
	}
	d := ct.districts[r.IntN(len(ct.districts))]
	// Roughly normal around the centre, within a few kilometres.
	lat := d.lat + (r.Float64()+r.Float64()+r.Float64()-1.5)*0.02
	lon := d.lon + (r.Float64()+r.Float64()+r.Float64()-1.5)*0.025
	return ct, d, obx.Location{Lat: math.Round(lat*1e6) / 1e6, Lon: math.Round(lon*1e6) / 1e6}
}

func address(r *rand.Rand, c city, d district) obx.Address {
	return obx.Address{City: c.name, District: d.name, ZipCode: d.zip + strconv.Itoa(10+r.IntN(90)),
		Line: fmt.Sprintf("%s %d", streets[r.IntN(len(streets))], 1+r.IntN(400))}
}

func weekly(days []time.Weekday, open, close int) []obx.Period {
	var ps []obx.Period
	for _, d := range days {
		ps = append(ps, obx.Period{Day: d, Open: open, Close: close})
	}
	return ps
}

var (
	monFri = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	allWk  = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
)

func subset(r *rand.Rand, always []string, maybe []string, p float64) []string {
	out := append([]string(nil), always...)
	for _, m := range maybe {
		if r.Float64() < p {
			out = append(out, m)
		}
	}
	return out
}

func demoBranch(r *rand.Rand, code string, i int) obx.Branch {
	ct, d, loc := spot(r)
	b := obx.Branch{
		Code: fmt.Sprintf("%s%04d", code, i+1), Name: fmt.Sprintf("%s%s지점", d.name[:len(d.name)-len("구")], []string{"", "중앙", "역", "로", "남", "북"}[i%6]),
		Address: address(r, ct, d), Location: loc,
		Phone:         fmt.Sprintf("%s-%d-%04d", map[string]string{"서울특별시": "02", "부산광역시": "051", "인천광역시": "032", "대구광역시": "053", "대전광역시": "042", "광주광역시": "062"}[ct.name], 200+r.IntN(800), r.IntN(10000)),
		Services:      subset(r, []string{"deposit", "loan"}, []string{"fx", "safe_deposit_box", "wealth", "business"}, 0.5),
		Accessibility: subset(r, nil, []string{"wheelchair", "braille", "hearing_loop", "parking"}, 0.5),
		Hours:         obx.OpeningHours{Weekly: weekly(monFri, 9*60, 16*60), ClosedOnHolidays: true},
	}
	if i == 0 {
		b.Name = "본점영업부"
	}
	switch n := r.IntN(10); {
	case n == 0: // 탄력점포: evenings and Saturdays
		b.Hours.Weekly = append(weekly(monFri, 9*60, 18*60), obx.Period{Day: time.Saturday, Open: 10 * 60, Close: 14 * 60})
	case n == 1: // 외국인 특화점포: Sundays
		b.Hours.Weekly = append(weekly(monFri, 9*60, 16*60), obx.Period{Day: time.Sunday, Open: 9*60 + 30, Close: 15 * 60})
		b.Services = append(b.Services, "foreign_worker_remittance")
	}
	if r.IntN(20) == 0 {
		b.Hours.Exceptions = append(b.Hours.Exceptions, obx.HoursException{
			Date: fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)), Closed: true, Reason: "내부 공사"})
	}
	if r.IntN(10) == 0 { // opens on the Saturday before Seollal for cash exchange
		b.Hours.Exceptions = append(b.Hours.Exceptions, obx.HoursException{
			Date: "2026-02-14", Periods: []obx.Period{{Open: 10 * 60, Close: 13 * 60}}, Reason: "설 명절 신권 교환"})
	}
	return b
}

func demoATM(r *rand.Rand, code string, i int, branches []obx.Branch) obx.ATM {
	a := obx.ATM{Code: fmt.Sprintf("%sA%05d", code, i+1), Network: "CD공동망",
		Services: subset(r, []string{"withdrawal", "deposit", "transfer"}, []string{"passbook", "card"}, 0.5)}
	if n := r.IntN(10); n < 3 && len(branches) > 0 { // at a branch
		b := branches[r.IntN(len(branches))]
		a.Place, a.Name, a.Address = b.Name, b.Name+" ATM", b.Address
		a.Location = obx.Location{Lat: b.Location.Lat + 0.00005, Lon: b.Location.Lon + 0.00005}
		a.Hours = obx.OpeningHours{Weekly: weekly(allWk, 7*60, 23*60+30)}
		a.Accessibility = b.Accessibility
	} else {
		ct, d, loc := spot(r)
		p := atmPlaces[r.IntN(len(atmPlaces))]
		a.Place, a.Name, a.Address, a.Location = p, d.name+" "+p+" ATM", address(r, ct, d), loc
		a.Accessibility = subset(r, nil, []string{"wheelchair", "braille", "voice_guidance"}, 0.4)
		switch m := r.IntN(10); {
		case m < 4:
			a.Hours = obx.OpeningHours{Always: true}
		case m < 7:
			a.Hours = obx.OpeningHours{Weekly: weekly(allWk, 5*60+30, 24*60)}
		case m < 9: // nightlife districts: open past midnight
			a.Hours = obx.OpeningHours{Weekly: weekly(allWk, 10*60, 3*60)}
		default: // in an office building: closed on weekends and holidays
			a.Hours = obx.OpeningHours{Weekly: weekly(monFri, 8*60, 22*60), ClosedOnHolidays: true}
		}
	}
	if r.IntN(4) == 0 {
		a.Services = append(a.Services, "fx")
		a.Currencies = []string{"USD", "JPY", "EUR", "CNY"}[:1+r.IntN(4)]
	}
	if r.IntN(25) == 0 {
		a.Hours.Exceptions = []obx.HoursException{{Date: fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)),
			Closed: true, Reason: "기기 교체"}}
	}
	return a
}

// fxBoard is the mid rate (KRW per unit) and spreads of each quoted currency.
var fxBoard = []struct {
	cur        string
	unit       int
	mid        float64
	cash, spot float64 // spreads, fraction of mid either side
}{
	{"USD", 1, 1385, 0.0175, 0.01}, {"JPY", 100, 905, 0.0175, 0.01}, {"EUR", 1, 1500, 0.0199, 0.01},
	{"CNY", 1, 190, 0.05, 0.01}, {"GBP", 1, 1750, 0.0199, 0.01}, {"AUD", 1, 905, 0.0199, 0.01},
	{"CAD", 1, 1010, 0.0199, 0.01}, {"CHF", 1, 1570, 0.0199, 0.01}, {"HKD", 1, 177, 0.0197, 0.01},
	{"SGD", 1, 1030, 0.0199, 0.01}, {"THB", 1, 39, 0.06, 0.01}, {"VND", 100, 5.5, 0.1, 0.01},
}

// DemoRates returns the simulated bank's rate board in force at t: quotes
// move every RateInterval, by a deterministic draw from the seed, the bank
// and the interval, around market mid rates; each bank has its own spreads.
func DemoRates(code string, seed int64, t time.Time) *obx.RateBoard {
	slot := t.UTC().Truncate(RateInterval)
	br := catalogRand(code, seed, "spreads")
	b := &obx.RateBoard{BankCode: code, QuotedAt: slot}
	round := func(v float64) obx.Decimal { return obx.Decimal(math.Round(v*100)) * 10_000 } // to 0.01 KRW
	for _, fx := range fxBoard {
		r := catalogRand(code, seed, fx.cur+"/"+strconv.FormatInt(slot.Unix(), 10))
		// Market move common to all banks in this interval, plus the bank's own.
		m := catalogRand("market", seed, fx.cur+"/"+strconv.FormatInt(slot.Unix(), 10))
		mid := fx.mid * (1 + (m.Float64()-0.5)*0.01 + (r.Float64()-0.5)*0.002)
		discount := 0.8 + br.Float64()*0.3 // the bank's spread policy
		b.Rates = append(b.Rates, obx.ExchangeRate{Currency: fx.cur, Unit: fx.unit,
			CashBuy: round(mid * (1 - fx.cash*discount)), CashSell: round(mid * (1 + fx.cash*discount)),
			SpotBuy: round(mid * (1 - fx.spot*discount)), SpotSell: round(mid * (1 + fx.spot*discount))})
	}
	return b
}

// FetchCatalog implements obx.CatalogSource: the bank's catalog, or
// NotModified when etag is its digest.
func (b *Bank) FetchCatalog(ctx context.Context, etag string) (*obx.CatalogFetch, error) {
	c := b.Catalog()
	tag := `"` + c.ContentDigest()[:32] + `"`
	if etag == tag {
		return &obx.CatalogFetch{NotModified: true, ETag: tag}, nil
	}
	return &obx.CatalogFetch{ETag: tag, Catalog: c}, nil
}

// FetchRates implements obx.CatalogSource: the board of the current
// interval, or NotModified when etag names it.
func (b *Bank) FetchRates(ctx context.Context, etag string) (*obx.RatesFetch, error) {
	board := DemoRates(b.code, b.dataSeed, b.now())
	tag := `"` + strconv.FormatInt(board.QuotedAt.Unix(), 10) + `"`
	if etag == tag {
		return &obx.RatesFetch{NotModified: true, ETag: tag}, nil
	}
	return &obx.RatesFetch{ETag: tag, Board: board}, nil
}

// Catalog returns a fresh copy of the bank's product catalog.
func (b *Bank) Catalog() *obx.Catalog {
	return DemoCatalog(b.code, b.name, b.dataSeed, CatalogOptions{})
}
