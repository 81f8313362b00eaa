package banksim

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/obxhub/obx"
)

// historyDays is how far back seeded histories of demand accounts reach.
const historyDays = 182

// seed fills a new ledger with the demo data for b.code, inside tx. It reads
// the clock once, so two banks seeded with the same seed at the same time are
// identical.
func (b *Bank) seed(ctx context.Context, tx *sql.Tx, seed int64) error {
	now := b.now().UTC()
	accounts := demoAccounts(b.code, seed, now)

	for _, p := range demoPlans(seed) {
		if !slices.Contains(p.Banks, b.code) {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO customers (ci, name, birth, gender, cell, email) VALUES (?, ?, ?, ?, ?, ?)`,
			p.CI, p.Name, p.BirthDate, p.Gender, p.CellNo, p.Email)
		if err != nil {
			return fmt.Errorf("seed customer: %w", err)
		}
		// A sandbox, but passwords are still never stored in the clear; MinCost
		// keeps Open fast.
		hash, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("hash password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO logins (login, ci, password_hash) VALUES (?, ?, ?)`, p.Login, p.CI, string(hash)); err != nil {
			return fmt.Errorf("seed login: %w", err)
		}
	}

	insAccount, err := tx.PrepareContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer insAccount.Close()
	insTxn, err := tx.PrepareContext(ctx, `
		INSERT INTO transactions (account, at, inout, type, print_content, amount, after_balance, branch_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer insTxn.Close()

	rows := 0
	for _, sa := range accounts {
		hist := sa.history(now)
		var balance int64
		if len(hist) > 0 {
			balance = hist[len(hist)-1].after
		}
		a := sa.acct
		_, err := insAccount.ExecContext(ctx, a.Number, a.BranchCode, a.HolderCI, a.HolderName, a.HolderType, a.Type,
			a.ProductName, a.Currency, a.OpenedOn, a.MaturesOn, balance, a.Closed)
		if err != nil {
			return fmt.Errorf("seed account: %w", err)
		}
		for _, t := range hist {
			inout := "O"
			if t.in {
				inout = "I"
			}
			if _, err := insTxn.ExecContext(ctx, a.Number, t.at.UnixMicro(), inout, t.typ, t.print, t.amount, t.after, t.branch); err != nil {
				return fmt.Errorf("seed transaction: %w", err)
			}
		}
		rows += len(hist)
	}
	for k, v := range map[string]string{
		"bank_code": b.code,
		"seed":      strconv.FormatInt(seed, 10),
		"seeded_at": now.Format(time.RFC3339Nano),
	} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("seed meta: %w", err)
		}
	}
	b.logger.Info("banksim seeded", "seed", seed, "accounts", len(accounts), "transactions", rows)
	return nil
}

// accountKind is what a seeded account is for; it decides its history.
type accountKind int

const (
	kindDemand      accountKind = iota // 수시입출금, daily life
	kindDeposit                        // 정기예금, one lump sum
	kindInstallment                    // 적금, monthly instalments
	kindBusiness                       // a TSP's 기업자유예금
)

// seedAccount is an account to seed and what its history needs.
type seedAccount struct {
	acct   obx.BankAccount
	kind   accountKind
	salary bool // the customer's salary arrives here
	person demoPerson
	rng    *drbg // this account's own stream: histories do not shift when others change
}

// demoAccounts returns the accounts the bank with code holds: the demo TSPs'
// first, then the demo customers', each with account numbers unique at the bank.
func demoAccounts(code string, seed int64, now time.Time) []seedAccount {
	used := map[string]bool{}
	var out []seedAccount
	for _, a := range DemoTSPAccounts(code) {
		used[a.Number] = true
		out = append(out, seedAccount{acct: a, kind: kindBusiness})
	}
	products := demoProducts[code]
	if products.demand == nil {
		products = defaultProducts
	}
	today := midnightKST(now)
	plans := demoPlans(seed)
	for _, p := range plans {
		if !slices.Contains(p.Banks, code) {
			continue
		}
		r := newDRBG(seed, "accounts", code, p.Name)
		n := 1 + r.intN(3)
		forceClosed := code == TestbedBankCode && p.index == len(plans)-1
		if forceClosed && n < 2 {
			n = 2 // so that the testbed always has a closed account
		}
		for j := range n {
			kind := kindDemand
			if j > 0 && !r.chance(3) {
				kind = kindDeposit
				if r.chance(2) {
					kind = kindInstallment
				}
			}
			closed := j > 0 && (r.chance(10) || forceClosed && j == n-1)
			num := accountNumber(code, r)
			for used[num] {
				num = accountNumber(code, r)
			}
			used[num] = true
			br := demoBranches[1+r.intN(len(demoBranches)-1)]
			a := obx.BankAccount{
				BankCode:   code,
				BranchCode: code + br.code,
				Number:     num,
				HolderName: p.Name,
				HolderType: obx.HolderPerson,
				HolderCI:   p.CI,
				Type:       obx.AccountDemand,
				Currency:   "KRW",
				Closed:     closed,
			}
			var opened time.Time
			switch kind {
			case kindDemand:
				a.ProductName = r.pick(products.demand)
				opened = today.AddDate(0, 0, -int(r.between(365, 12*365)))
			case kindDeposit:
				a.Type = obx.AccountSavings
				a.ProductName = r.pick(products.deposit)
				opened = today.AddDate(0, 0, -int(r.between(30, 600)))
				a.MaturesOn = maturity(opened, today, 12).Format("20060102")
			case kindInstallment:
				a.Type = obx.AccountSavings
				a.ProductName = r.pick(products.installment)
				opened = today.AddDate(0, 0, -int(r.between(60, 330)))
				a.MaturesOn = maturity(opened, today, 12*int(r.between(1, 2))).Format("20060102")
			}
			if closed {
				// Closed accounts were opened long ago and closed within the window.
				opened = today.AddDate(-int(r.between(2, 8)), 0, 0)
				a.MaturesOn = ""
			}
			a.OpenedOn = opened.Format("20060102")
			out = append(out, seedAccount{
				acct:   a,
				kind:   kind,
				salary: kind == kindDemand && j == 0 && code == p.salaryBank,
				person: p.person,
				rng:    newDRBG(seed, "history", code, num),
			})
		}
	}
	return out
}

// maturity is the first term of months after opened that ends after today.
func maturity(opened, today time.Time, months int) time.Time {
	m := opened.AddDate(0, months, 0)
	for !m.After(today) {
		m = m.AddDate(0, months, 0)
	}
	return m
}

func midnightKST(t time.Time) time.Time {
	k := t.In(kst)
	return time.Date(k.Year(), k.Month(), k.Day(), 0, 0, 0, 0, kst)
}

// seedTxn is one seeded history row.
type seedTxn struct {
	at                 time.Time
	in                 bool
	typ, print, branch string
	amount, after      int64
	interest           bool // amount follows from the balance when applied
	order              int  // insertion order, to keep sorting stable
}

// history returns the account's history up to now, oldest first, with
// after-balances chained from zero and never negative.
func (sa *seedAccount) history(now time.Time) []seedTxn {
	r := sa.rng
	today := midnightKST(now)
	start := today.AddDate(0, 0, -historyDays)
	branch := branchName(sa.acct.BranchCode)
	var ev []seedTxn
	add := func(at time.Time, in bool, typ, print, branch string, amount int64) {
		if at.After(now) {
			return
		}
		ev = append(ev, seedTxn{at: at, in: in, typ: typ, print: print, branch: branch, amount: amount, order: len(ev)})
	}
	clock := func(day time.Time, fromHour, toHour int) time.Time {
		return day.Add(time.Duration(r.between(int64(fromHour)*3600, int64(toHour)*3600-1)) * time.Second)
	}

	switch {
	case sa.kind == kindBusiness:
		opened, _ := time.ParseInLocation("20060102", sa.acct.OpenedOn, kst)
		add(opened.Add(10*time.Hour), true, "대체", "신규", branch, DemoTSPBalance)

	case sa.acct.Closed:
		amount := r.between(10, 300) * 10_000
		add(start.Add(9*time.Hour), true, "대체", "전기이월", branch, amount)
		add(clock(start.AddDate(0, 0, int(r.between(10, historyDays-10))), 9, 16), false, "대체", "해지", branch, amount)

	case sa.kind == kindDeposit:
		opened, _ := time.ParseInLocation("20060102", sa.acct.OpenedOn, kst)
		add(clock(opened, 9, 16), true, "대체", "신규", branch, r.between(1, 50)*1_000_000)

	case sa.kind == kindInstallment:
		opened, _ := time.ParseInLocation("20060102", sa.acct.OpenedOn, kst)
		monthly := r.between(1, 10) * 100_000
		add(clock(opened, 9, 16), true, "대체", "신규", branch, monthly)
		for m := 1; ; m++ {
			d := opened.AddDate(0, m, 0)
			if d.After(now) {
				break
			}
			add(d.Add(6*time.Hour), true, "자동이체", "적금불입", "CMS", monthly)
		}

	default: // an open demand account: six months of daily life
		opening := r.between(2, 50) * 100_000
		if sa.salary {
			opening += sa.person.salary
		}
		add(start.Add(9*time.Hour), true, "대체", "전기이월", branch, opening)
		cards := 3 // daily card payments: 0..cards-1
		if sa.salary {
			cards = 4
		}
		for day := start; !day.After(today); day = day.AddDate(0, 0, 1) {
			dom := day.Day()
			if sa.salary {
				switch dom {
				case 25:
					add(day.Add(9*time.Hour+time.Duration(r.intN(30))*time.Minute), true, "급여", sa.person.employer, "본점영업부", sa.person.salary)
				case 5:
					add(day.Add(7*time.Hour), false, "자동이체", "삼성화재", "CMS", 68_400)
				case 15:
					add(day.Add(7*time.Hour), false, "자동이체", "SKT통신료", "CMS", r.between(55, 89)*1000)
				case 18:
					add(day.Add(7*time.Hour), false, "자동이체", "한국전력", "CMS", r.between(3_000, 7_000)*10)
				case 20:
					add(day.Add(7*time.Hour), false, "자동이체", "관리비", "CMS", r.between(15_000, 28_000)*10)
				}
			} else if dom == 1 || dom == 11 || dom == 21 {
				// Other accounts are topped up by the holder from elsewhere.
				add(clock(day, 8, 22), true, "타행환", sa.person.name, "스마트뱅킹", r.between(40, 120)*10_000)
			}
			if dom == 21 && day.Month()%3 == 0 {
				ev = append(ev, seedTxn{at: day.Add(3 * time.Hour), in: true, typ: "이자", print: "결산이자",
					branch: branch, interest: true, order: len(ev)})
			}
			for range r.intN(cards) {
				m := demoMerchants[r.intN(len(demoMerchants))]
				add(clock(day, 7, 23), false, "체크카드", m.name, "카드승인", r.between(m.lo/10, m.hi/10)*10)
			}
			if r.chance(7) {
				add(clock(day, 8, 23), false, "현금", "ATM출금", demoBranches[1+r.intN(len(demoBranches)-1)].name, r.between(1, 20)*10_000)
			}
			if r.chance(6) {
				typ := "타행환"
				if r.chance(3) {
					typ = "대체"
				}
				add(clock(day, 8, 23), false, typ, r.pick(demoPayees), "스마트뱅킹", r.between(1, 30)*10_000)
			}
			if r.chance(10) {
				add(clock(day, 8, 23), true, "타행환", r.pick(demoPayees), "스마트뱅킹", r.between(1, 20)*10_000)
			}
		}
	}

	slices.SortStableFunc(ev, func(a, b seedTxn) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.order - b.order
	})
	out := ev[:0]
	var balance int64
	for _, t := range ev {
		if t.interest {
			t.amount = balance / 2000 // about 0.2% a quarter
		}
		if t.amount <= 0 || !t.in && t.amount > balance {
			continue // never overdraw: the holder's card would have been declined
		}
		if t.in {
			balance += t.amount
		} else {
			balance -= t.amount
		}
		t.after = balance
		out = append(out, t)
	}
	return out
}

// products are the names a bank gives its accounts by kind.
type products struct{ demand, deposit, installment []string }

var demoProducts = map[string]products{
	"004": {[]string{"KB Star 통장", "KB국민ONE통장", "직장인우대종합통장"}, []string{"KB Star 정기예금", "KB국민UP정기예금"}, []string{"KB맑은하늘적금", "KB내맘대로적금"}},
	"011": {[]string{"NH올원e통장", "NH주거래우대통장", "NH1418통장"}, []string{"NH올원e예금", "NH왈츠회전예금"}, []string{"NH직장인월복리적금", "NH올원e미니적금"}},
	"020": {[]string{"우리 SUPER주거래 통장", "WON통장", "우리꿈통장"}, []string{"WON플러스예금", "우리 첫거래우대 정기예금"}, []string{"우리 SUPER주거래 적금", "WON적금"}},
	"081": {[]string{"하나 플러스 통장", "영하나플러스통장", "급여하나 통장"}, []string{"하나의정기예금", "3·6·9 정기예금"}, []string{"급여하나 월복리 적금", "하나 내맘대로 적금"}},
	"088": {[]string{"쏠편한 입출금통장", "신한 주거래 S20통장", "신한 주거래 우대통장"}, []string{"쏠편한 정기예금", "신한 S드림 정기예금"}, []string{"신한 알.쏠 적금", "신한 쏠만해 적금"}},
	"097": {[]string{"오픈 자유입출금통장", "오픈 급여통장"}, []string{"오픈 정기예금"}, []string{"오픈 자유적금"}},
}

var defaultProducts = products{[]string{"보통예금"}, []string{"정기예금"}, []string{"정기적금"}}

// demoBranches are the branches accounts are opened at; the first is the head
// office. A branch code (bank_code_sub) is the bank code and these four digits.
var demoBranches = []struct{ code, name string }{
	{"0001", "본점영업부"},
	{"0123", "강남역지점"},
	{"0245", "여의도지점"},
	{"0310", "종로지점"},
	{"0487", "판교테크노밸리지점"},
	{"0512", "잠실역지점"},
	{"0633", "서초동지점"},
	{"0701", "명동지점"},
	{"0856", "부산서면지점"},
	{"0914", "대전둔산지점"},
	{"1025", "광화문지점"},
	{"1102", "홍대입구역지점"},
}

func branchName(branchCode string) string {
	for _, b := range demoBranches {
		if len(branchCode) == 7 && branchCode[3:] == b.code {
			return b.name
		}
	}
	return demoBranches[0].name
}

// demoMerchants are where demo customers pay by card, with typical amounts.
var demoMerchants = []struct {
	name   string
	lo, hi int64
}{
	{"스타벅스", 4_500, 15_000},
	{"GS25", 1_200, 18_000},
	{"CU", 1_000, 15_000},
	{"세븐일레븐", 1_200, 12_000},
	{"이마트", 15_000, 180_000},
	{"홈플러스", 12_000, 150_000},
	{"롯데마트", 12_000, 140_000},
	{"쿠팡", 9_900, 120_000},
	{"배달의민족", 13_000, 45_000},
	{"카카오T", 4_800, 32_000},
	{"올리브영", 8_000, 60_000},
	{"다이소", 2_000, 25_000},
	{"CGV", 14_000, 30_000},
	{"교보문고", 12_000, 45_000},
	{"맥도날드", 6_000, 15_000},
	{"파리바게뜨", 3_500, 20_000},
	{"이디야커피", 3_200, 9_000},
	{"SK에너지", 40_000, 90_000},
	{"무신사", 30_000, 150_000},
	{"네이버페이", 5_000, 80_000},
}

// demoPayees are the people demo customers send money to and receive from.
var demoPayees = []string{
	"김철수", "이영희", "박영수", "최은정", "정민호", "한수진",
	"윤재영", "서지혜", "오민석", "배수빈", "홍길동", "신동현",
}
