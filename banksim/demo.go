package banksim

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/obxhub/obx"
)

// DemoBank is a bank that the demo runs as a simulated bank.
type DemoBank struct {
	Code string // bank_code_std
	Name string
}

// DemoBanks are the banks that `obx demo` simulates, in code order. 097 오픈은행
// is KFTC's testbed bank; every demo customer holds accounts there.
var DemoBanks = []DemoBank{
	{"004", "KB국민은행"},
	{"011", "NH농협은행"},
	{"020", "우리은행"},
	{"081", "하나은행"},
	{"088", "신한은행"},
	{"097", "오픈은행"},
}

// TestbedBankCode is the code of the demo bank where every demo customer holds
// accounts, so that sandbox documentation can use it for every login.
const TestbedBankCode = "097"

// DemoBankName returns the name of the demo bank with code, or "".
func DemoBankName(code string) string {
	for _, b := range DemoBanks {
		if b.Code == code {
			return b.Name
		}
	}
	return ""
}

// DemoCustomer is one of the demo customers that every simulated bank knows.
type DemoCustomer struct {
	CI        string // 88-character standard base64 of 64 bytes, derived from the name and seed
	Name      string
	BirthDate string // YYYYMMDD
	Gender    string // "M" or "F"
	CellNo    string // 11 digits, 010…
	Email     string
	// Login and Password are the customer's sandbox credentials, the same at
	// every bank where they hold accounts: user01/pass01 … user10/pass10.
	Login    string
	Password string
	// Banks are the codes of the demo banks where the customer holds accounts,
	// in DemoBanks order. It always includes TestbedBankCode.
	Banks []string
}

// Logins returns the customer's sandbox logins, one per bank in c.Banks.
func (c DemoCustomer) Logins() []DemoLogin {
	var ls []DemoLogin
	for _, code := range c.Banks {
		ls = append(ls, DemoLogin{BankCode: code, Login: c.Login, Password: c.Password, CI: c.CI, Name: c.Name})
	}
	return ls
}

// DemoLogin is a sandbox login valid at one simulated bank.
type DemoLogin struct {
	BankCode string
	Login    string
	Password string
	CI       string // the customer the login signs in
	Name     string
}

// demoPerson is the fixed part of a demo customer; the seed adds the CI, the
// contact numbers and the banks.
type demoPerson struct {
	name, roman, birth, gender string
	employer                   string // printed on salary deposits
	salary                     int64  // monthly, KRW
}

var demoPeople = []demoPerson{
	{"김민준", "minjun.kim", "19880314", "M", "(주)한빛전자", 4_200_000},
	{"이서연", "seoyeon.lee", "19920722", "F", "누리소프트(주)", 3_600_000},
	{"박지훈", "jihoon.park", "19851105", "M", "대한물산(주)", 5_100_000},
	{"최수아", "sua.choi", "19960130", "F", "월급", 2_900_000},
	{"정도윤", "doyun.jung", "19790917", "M", "서울특별시", 4_800_000},
	{"강하은", "haeun.kang", "19900508", "F", "미래건설(주)", 3_900_000},
	{"조현우", "hyunwoo.cho", "19831224", "M", "(주)바다물류", 4_500_000},
	{"윤지우", "jiwoo.yoon", "19990411", "F", "월급", 2_600_000},
	{"장서준", "seojun.jang", "19750802", "M", "한국전력공사", 6_300_000},
	{"임예은", "yeeun.lim", "20010219", "F", "(주)초록카페", 2_300_000},
}

// demoPlan is a demo customer with what seeding needs besides the public part.
type demoPlan struct {
	DemoCustomer
	person     demoPerson
	index      int
	salaryBank string // where the salary arrives
}

// DemoCustomers returns the demo customers, the same set at every bank: ten
// people with fixed names and birth dates, whose CI, cell number and banks
// follow from seed. Every call with the same seed returns the same customers.
func DemoCustomers(seed int64) []DemoCustomer {
	plans := demoPlans(seed)
	cs := make([]DemoCustomer, len(plans))
	for i, p := range plans {
		cs[i] = p.DemoCustomer
		cs[i].Banks = slices.Clone(p.Banks)
	}
	return cs
}

// DemoLogins returns the sandbox logins valid at the bank with code: one per
// demo customer who holds accounts there.
func DemoLogins(code string, seed int64) []DemoLogin {
	var ls []DemoLogin
	for _, c := range DemoCustomers(seed) {
		for _, l := range c.Logins() {
			if l.BankCode == code {
				ls = append(ls, l)
			}
		}
	}
	return ls
}

func demoPlans(seed int64) []demoPlan {
	others := []string{}
	for _, b := range DemoBanks {
		if b.Code != TestbedBankCode {
			others = append(others, b.Code)
		}
	}
	plans := make([]demoPlan, len(demoPeople))
	held := map[string]int{} // bank code → customers holding accounts there
	for i, p := range demoPeople {
		sum := sha512.Sum512([]byte("obx-banksim-ci\x00" + p.name + "\x00" + p.birth + "\x00" + strconv.FormatInt(seed, 10)))
		ci := base64.StdEncoding.EncodeToString(sum[:])
		cell := sha256.Sum256([]byte("cell\x00" + ci))

		r := newDRBG(seed, "banks", p.name)
		picks := slices.Clone(others)
		r.shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
		picks = picks[:2+r.intN(2)]
		for _, code := range picks {
			held[code]++
		}
		plans[i] = demoPlan{
			DemoCustomer: DemoCustomer{
				CI:        ci,
				Name:      p.name,
				BirthDate: p.birth,
				Gender:    p.gender,
				CellNo:    fmt.Sprintf("010%08d", binary.BigEndian.Uint64(cell[:8])%100_000_000),
				Email:     p.roman + "@example.com",
				Login:     fmt.Sprintf("user%02d", i+1),
				Password:  fmt.Sprintf("pass%02d", i+1),
				Banks:     append(picks, TestbedBankCode),
			},
			person:     p,
			index:      i,
			salaryBank: picks[0],
		}
	}
	// Every demo bank gets at least three customers, whatever the seed.
	for _, code := range others {
		for i := 0; held[code] < 3; i++ {
			p := &plans[(i*7+len(code))%len(plans)]
			if !slices.Contains(p.Banks, code) {
				p.Banks = append(p.Banks, code)
				held[code]++
			}
		}
	}
	for i := range plans {
		slices.SortFunc(plans[i].Banks, func(a, b string) int {
			return slices.IndexFunc(DemoBanks, func(d DemoBank) bool { return d.Code == a }) -
				slices.IndexFunc(DemoBanks, func(d DemoBank) bool { return d.Code == b })
		})
	}
	return plans
}

// demoTSPs are the businesses that hold accounts at every demo bank, for the
// demo TSPs' contract accounts (출금이체 수납계좌, 입금이체 지급계좌).
var demoTSPs = []string{"오비엑스페이(주)", "한빛핀테크(주)", "모아머니(주)"}

// DemoTSPBalance is the opening balance of every account DemoTSPAccounts returns.
const DemoTSPBalance int64 = 1_000_000_000

// demoTSPOpened is when the demo TSPs opened their accounts.
const demoTSPOpened = "20240102"

// DemoTSPAccounts returns the business accounts (holder type "B") that Open
// seeds at the bank with code, one per demo TSP, each opened with
// DemoTSPBalance. They do not depend on the seed, so the hub can register them
// as TSP contract accounts before any bank runs.
func DemoTSPAccounts(code string) []obx.BankAccount {
	used := map[string]bool{}
	var as []obx.BankAccount
	for i, name := range demoTSPs {
		r := newDRBG(0, "tsp", code, name)
		num := accountNumber(code, r)
		for used[num] {
			num = accountNumber(code, r)
		}
		used[num] = true
		br := demoBranches[i%2] // head office or 강남
		as = append(as, obx.BankAccount{
			BankCode:    code,
			BranchCode:  code + br.code,
			Number:      num,
			HolderName:  name,
			HolderType:  obx.HolderBusiness,
			Type:        obx.AccountDemand,
			ProductName: "기업자유예금",
			Currency:    "KRW",
			OpenedOn:    demoTSPOpened,
		})
	}
	return as
}

// accountNumber returns a random account number in the style of the bank with
// code; the lengths (10–14 digits) and prefixes follow the banks' own.
func accountNumber(code string, r *drbg) string {
	switch code {
	case "004": // KB: 6-2-6
		return r.digits(6, true) + r.pick([]string{"01", "02", "04", "21", "24", "25"}) + r.digits(6, false)
	case "011": // NH: 3-4-4-2
		return r.pick([]string{"301", "302", "312", "351", "352", "356"}) + r.digits(10, false)
	case "020": // 우리: 4-3-6
		return "1002" + r.digits(9, false)
	case "081": // 하나: 3-6-5
		return r.digits(14, true)
	case "088": // 신한: 3-3-6
		return r.pick([]string{"110", "100", "140"}) + r.digits(9, false)
	case "097": // 오픈은행 testbed
		return "1101230" + r.digits(6, false)
	}
	return code[1:] + r.digits(10, false)
}

// drbg is a deterministic random source for demo data. It uses only the PCG
// generator's raw output, whose sequence Go specifies, so that a seed keeps
// producing the same demo data across Go releases.
type drbg struct{ pcg *rand.PCG }

func newDRBG(seed int64, parts ...string) *drbg {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(seed, 10)))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	return &drbg{rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16]))}
}

// intN returns a number in [0, n); the modulo bias is irrelevant for demo data.
func (r *drbg) intN(n int) int { return int(r.pcg.Uint64() % uint64(n)) }

// between returns a number in [lo, hi].
func (r *drbg) between(lo, hi int64) int64 { return lo + int64(r.pcg.Uint64()%uint64(hi-lo+1)) }

// chance reports true with probability 1/n.
func (r *drbg) chance(n int) bool { return r.intN(n) == 0 }

func (r *drbg) pick(s []string) string { return s[r.intN(len(s))] }

func (r *drbg) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.intN(i+1))
	}
}

// digits returns n random decimal digits, the first non-zero if lead.
func (r *drbg) digits(n int, lead bool) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.intN(10))
	}
	if lead {
		b[0] = byte('1' + r.intN(9))
	}
	return string(b)
}
