package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
)

// withdrawBody is a complete withdraw/fin_num request.
func withdrawBody(tsp *hubtest.TSP, tranID, fin, cntr string, amt any) map[string]any {
	return map[string]any{
		"bank_tran_id": tranID, "cntr_account_type": "N", "cntr_account_num": cntr,
		"dps_print_content": "오비엑스충전", "fintech_use_num": fin, "tran_amt": amt,
		"tran_dtime": hubtest.TranDtime(), "req_client_name": "홍길동", "req_client_fintech_use_num": fin,
		"req_client_num": "MEMBER0001", "transfer_purpose": "RC",
		"recv_client_name": "오비엑스페이", "recv_client_bank_code": "097", "recv_client_account_num": cntr,
	}
}

func depositBody(tranID, fin, cntr, pass string, amt any) map[string]any {
	return map[string]any{
		"cntr_account_type": "N", "cntr_account_num": cntr, "wd_pass_phrase": pass, "wd_print_content": "환불",
		"name_check_option": "on", "tran_dtime": hubtest.TranDtime(), "req_cnt": "1",
		"req_list": []map[string]any{{
			"tran_no": "1", "bank_tran_id": tranID, "fintech_use_num": fin, "print_content": "쇼핑몰환불",
			"tran_amt": amt, "req_client_name": "홍길동", "req_client_num": "MEMBER0001", "transfer_purpose": "TR",
		}},
	}
}

// balanceAt reads an account's balance straight from the simulated bank's ledger.
func (h *testHub) balanceAt(t *testing.T, bank, num string) int64 {
	t.Helper()
	b, err := h.banks[bank].Balance(context.Background(), num)
	if err != nil {
		t.Fatal(err)
	}
	return b.Balance
}

// numberOf returns the full account number behind a fintech use number.
func (h *testHub) numberOf(t *testing.T, fin string) string {
	t.Helper()
	a, err := h.db.Account(context.Background(), h.tspA.ID, fin)
	if err != nil {
		t.Fatal(err)
	}
	return a.Number
}

func TestTransfers(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		num := h.numberOf(t, fin)
		cntr := contractAccount(0)
		oob := h.a.InstitutionToken(t, "oob")
		custBefore, tspBefore := h.balanceAt(t, "088", num), h.balanceAt(t, "097", cntr)

		// A withdrawal moves the money once, however often it is retried.
		id := h.a.BankTranID()
		body := withdrawBody(h.a, id, fin, cntr, "10000")
		r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", body)
		if hubtest.Code(r) != "A0000" || hubtest.Str(r, "bank_rsp_code") != "000" || hubtest.Str(r, "tran_amt") != "10000" ||
			hubtest.Str(r, "dps_bank_code_std") != "097" || hubtest.Str(r, "bank_code_std") != "088" {
			t.Fatalf("withdraw: %v", r)
		}
		if hubtest.Str(r, "wd_limit_remain_amt") != "2990000" {
			t.Errorf("wd_limit_remain_amt = %s, want 2990000 (user limit 3,000,000 less 10,000)", hubtest.Str(r, "wd_limit_remain_amt"))
		}
		body["tran_amt"] = 10000 // the same request, with a JSON number this time
		if again := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", body); hubtest.Code(again) != "A0000" {
			t.Errorf("retry: %v", again)
		}
		if got := h.balanceAt(t, "088", num); got != custBefore-10000 {
			t.Errorf("customer balance %d, want %d", got, custBefore-10000)
		}
		if got := h.balanceAt(t, "097", cntr); got != tspBefore+10000 {
			t.Errorf("TSP balance %d, want %d", got, tspBefore+10000)
		}
		body["tran_amt"] = "20000"
		if r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", body); hubtest.Code(r) != "A0326" {
			t.Errorf("same bank_tran_id, other amount: %s, want A0326", hubtest.Code(r))
		}

		res := h.a.Post(t, oob, "/v2.0/transfer/result", map[string]any{"check_type": "1", "tran_dtime": hubtest.TranDtime(),
			"req_cnt": "2", "req_list": []map[string]any{
				{"tran_no": "1", "org_bank_tran_id": id, "org_bank_tran_date": hubtest.Today(), "org_tran_amt": "10000"},
				{"tran_no": "2", "org_bank_tran_id": h.a.BankTranID(), "org_bank_tran_date": hubtest.Today(), "org_tran_amt": "10000"},
			}})
		items := hubtest.List(res, "res_list")
		if hubtest.Code(res) != "A0009" || len(items) != 2 || hubtest.Str(items[0], "bank_rsp_code") != "000" ||
			hubtest.Str(items[1], "bank_rsp_code") != "" {
			t.Errorf("transfer/result: %v", res)
		}

		// A refusal by the bank moves nothing and gives the limit back.
		remain := func() string {
			return hubtest.Str(h.a.Get(t, tok, "/v2.0/transfer/user_remain_amt", vals("user_seq_no", seq)), "wd_limit_remain_amt")
		}
		before := remain()
		big := h.balanceAt(t, "088", num) + 1
		h.dbSetLimits(t, 0, big+3_000_000, big+1)
		r = h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, cntr, strconv.FormatInt(big, 10)))
		if hubtest.Code(r) != "A0002" || hubtest.Str(r, "bank_rsp_code") != "453" || hubtest.Str(r, "bank_code_tran") != "088" {
			t.Errorf("overdraft: %v, want A0002 453 from 088", r)
		}
		h.dbSetLimits(t, 0, 3_000_000, 1_000_000)
		if got := remain(); got != before {
			t.Errorf("remaining limit after a refused transfer %s, want %s", got, before)
		}

		// Bad input: each its code, nothing moves.
		mid := h.balanceAt(t, "088", num)
		for _, tc := range []struct {
			name string
			mut  func(map[string]any)
			want string
		}{
			{"zero amount", func(b map[string]any) { b["tran_amt"] = "0" }, "A0004"},
			{"negative amount", func(b map[string]any) { b["tran_amt"] = "-100" }, "A0004"},
			{"non-numeric amount", func(b map[string]any) { b["tran_amt"] = "1e3" }, "A0004"},
			{"13-digit amount", func(b map[string]any) { b["tran_amt"] = "1000000000000" }, "A0004"},
			{"over the per-transfer limit", func(b map[string]any) { b["tran_amt"] = "1000001" }, "A0105"},
			{"future tran_dtime", func(b map[string]any) { b["tran_dtime"] = time.Now().Add(48 * time.Hour).Format("20060102150405") }, "A0004"},
			{"ancient tran_dtime", func(b map[string]any) { b["tran_dtime"] = "20200101000000" }, "A0004"},
			{"unregistered contract account", func(b map[string]any) { b["cntr_account_num"] = "9999999999" }, "A0322"},
			{"another TSP's contract account", func(b map[string]any) { b["cntr_account_num"] = contractAccount(1) }, "A0322"},
			{"missing recipient", func(b map[string]any) { delete(b, "recv_client_name") }, "A0004"},
			{"both requester forms", func(b map[string]any) { b["req_client_bank_code"] = "088"; b["req_client_account_num"] = "1" }, "A0004"},
			{"unknown fintech number", func(b map[string]any) { b["fintech_use_num"] = "199000000100000000000000" }, "A0304"},
		} {
			b := withdrawBody(h.a, h.a.BankTranID(), fin, cntr, "1000")
			tc.mut(b)
			if got := hubtest.Code(h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", b)); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
		}
		inqTok, _ := userToken(t, h.a, c, "088", "login inquiry")
		if got := hubtest.Code(h.a.Post(t, inqTok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, cntr, "1000"))); got != "O0011" {
			t.Errorf("withdraw with an inquiry token: %s, want O0011", got)
		}
		// The withdrawal's body is read before its token (to read the payer
		// along with it), but the token's errors still come first, and
		// another TSP's token reads nothing of this TSP's customer.
		post := func(auth, body string) string {
			req, _ := http.NewRequest("POST", h.srv.URL+"/v2.0/transfer/withdraw/fin_num", strings.NewReader(body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			req.Header.Set("Content-Type", "application/json")
			return hubtest.Code(h.a.Do(t, req))
		}
		full, err := json.Marshal(withdrawBody(h.a, h.a.BankTranID(), fin, cntr, "1000"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, auth, body, want string }{
			{"no token, malformed body", "", `{"fintech_use_num":`, "O0001"},
			{"garbage token, malformed body", "Bearer nonsense.token", `{"fintech_use_num":`, "O0002"},
			{"garbage token, whole body", "Bearer nonsense.token", string(full), "O0002"},
			{"inquiry token, malformed body", "Bearer " + inqTok, `{"fintech_use_num":`, "O0011"},
			{"malformed body", "Bearer " + tok, `{"fintech_use_num":`, "A0004"},
			{"NUL in the fintech number", "Bearer " + tok, strings.Replace(string(full), fin, fin[:10]+`\u0000`, 1), "A0004"},
		} {
			if got := post(tc.auth, tc.body); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
		}
		saB := h.b.InstitutionToken(t, "sa")
		if got := hubtest.Code(h.b.Post(t, saB, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.b, h.b.BankTranID(), fin, contractAccount(1), "1000"))); got != "A0304" {
			t.Errorf("another TSP's token on this TSP's fintech number: %s, want A0304", got)
		}
		if got := h.balanceAt(t, "088", num); got != mid {
			t.Errorf("bad requests moved money: %d → %d", mid, got)
		}

		// A deposit pays the customer out of the TSP's account.
		tspNow, custNow := h.balanceAt(t, "097", cntr), h.balanceAt(t, "088", num)
		did := h.a.BankTranID()
		d := h.a.Post(t, oob, "/v2.0/transfer/deposit/fin_num", depositBody(did, fin, cntr, "NONE", "7000"))
		its := hubtest.List(d, "res_list")
		if hubtest.Code(d) != "A0000" || len(its) != 1 || hubtest.Str(its[0], "bank_rsp_code") != "000" || hubtest.Str(d, "wd_bank_code_std") != "097" {
			t.Fatalf("deposit: %v", d)
		}
		if h.balanceAt(t, "097", cntr) != tspNow-7000 || h.balanceAt(t, "088", num) != custNow+7000 {
			t.Errorf("deposit moved TSP %d→%d, customer %d→%d", tspNow, h.balanceAt(t, "097", cntr), custNow, h.balanceAt(t, "088", num))
		}
		if got := hubtest.Code(h.a.Post(t, oob, "/v2.0/transfer/deposit/fin_num", depositBody(h.a.BankTranID(), fin, cntr, "WRONG", "7000"))); got != "A0307" {
			t.Errorf("wrong pass phrase: %s, want A0307", got)
		}
		if got := hubtest.Code(h.a.Post(t, tok, "/v2.0/transfer/deposit/fin_num", depositBody(h.a.BankTranID(), fin, cntr, "NONE", "7000"))); got != "O0011" {
			t.Errorf("deposit with a user token: %s, want O0011", got)
		}

		// A credit refused for good (the recipient's name no longer matches) is
		// reversed: the TSP gets its money back and the item reports 815.
		if _, err := h.db.SQL().Exec(`UPDATE accounts SET holder_name = '다른사람' WHERE fintech_use_num = $1`, fin); err != nil {
			t.Fatal(err)
		}
		tspNow, custNow = h.balanceAt(t, "097", cntr), h.balanceAt(t, "088", num)
		d = h.a.Post(t, oob, "/v2.0/transfer/deposit/fin_num", depositBody(h.a.BankTranID(), fin, cntr, "NONE", "5000"))
		its = hubtest.List(d, "res_list")
		if hubtest.Code(d) != "A0009" || len(its) != 1 || hubtest.Str(its[0], "bank_rsp_code") != "815" || hubtest.Str(its[0], "bank_code_tran") != "088" {
			t.Errorf("deposit to a renamed holder: %v, want A0009 with 815 from 088", d)
		}
		if h.balanceAt(t, "097", cntr) != tspNow || h.balanceAt(t, "088", num) != custNow {
			t.Errorf("a reversed deposit changed balances: TSP %d→%d, customer %d→%d", tspNow, h.balanceAt(t, "097", cntr), custNow, h.balanceAt(t, "088", num))
		}
	})
}

// dbSetLimits changes TSP A's withdrawal limits.
func (h *testHub) dbSetLimits(t *testing.T, daily, userDaily, perTransfer int64) {
	t.Helper()
	c, err := h.db.Contract(context.Background(), h.tspA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if daily > 0 {
		c.DailyWithdrawLimit = daily
	}
	c.UserDailyLimit, c.PerTransferLimit = userDaily, perTransfer
	if err := h.db.SetContract(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestLostAnswerIsRecovered: the bank applies a debit but its answer is lost.
// The TSP hears "in progress"; recovery asks the bank, finishes the transfer,
// and the money moved exactly once.
func TestLostAnswerIsRecovered(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{bankTimeout: 300 * time.Millisecond})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		num, cntr := h.numberOf(t, fin), contractAccount(0)
		oob := h.a.InstitutionToken(t, "oob")
		custBefore, tspBefore := h.balanceAt(t, "088", num), h.balanceAt(t, "097", cntr)

		h.banks["088"].SetFaults(banksim.Faults{LostResponseRate: 1})
		id := h.a.BankTranID()
		r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, id, fin, cntr, "12345"))
		if hubtest.Code(r) != "A0001" {
			t.Fatalf("withdraw with a lost answer: %v, want A0001", r)
		}
		h.banks["088"].SetFaults(banksim.Faults{})
		if got := h.balanceAt(t, "088", num); got != custBefore-12345 {
			t.Fatalf("the bank did not apply the debit: %d", got)
		}
		if n, err := h.transfers.Recover(context.Background(), 10); err != nil || n != 1 {
			t.Fatalf("Recover = %d, %v; want 1 transfer", n, err)
		}
		res := h.a.Post(t, oob, "/v2.0/transfer/result", map[string]any{"check_type": "1", "tran_dtime": hubtest.TranDtime(),
			"req_cnt": "1", "req_list": []map[string]any{{"tran_no": "1", "org_bank_tran_id": id,
				"org_bank_tran_date": hubtest.Today(), "org_tran_amt": "12345"}}})
		if items := hubtest.List(res, "res_list"); hubtest.Code(res) != "A0000" || hubtest.Str(items[0], "bank_rsp_code") != "000" {
			t.Errorf("transfer/result after recovery: %v", res)
		}
		if h.balanceAt(t, "088", num) != custBefore-12345 || h.balanceAt(t, "097", cntr) != tspBefore+12345 {
			t.Errorf("after recovery: customer %d (want %d), TSP %d (want %d)",
				h.balanceAt(t, "088", num), custBefore-12345, h.balanceAt(t, "097", cntr), tspBefore+12345)
		}
		// A client retry after recovery reports the final outcome and moves nothing.
		if again := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, id, fin, cntr, "12345")); hubtest.Code(again) != "A0000" {
			t.Errorf("retry after recovery: %v", again)
		}
		if h.balanceAt(t, "088", num) != custBefore-12345 {
			t.Error("a retry after recovery moved money again")
		}
	})
}

// TestCrashBetweenDebitAndCredit: a withdrawal's debit is applied and the
// credit follows without a save in between, so a hub that dies after the
// debit leaves the transfer recorded as debiting. The credit's answer is
// lost here, which is saved as crediting; putting the row back to debiting
// then recreates what a crash right after the debit leaves. Recovery must
// find both operations at the banks and finish the transfer, moving the
// money once.
func TestCrashBetweenDebitAndCredit(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{bankTimeout: 300 * time.Millisecond})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		num, cntr := h.numberOf(t, fin), contractAccount(0)
		custBefore, tspBefore := h.balanceAt(t, "088", num), h.balanceAt(t, "097", cntr)

		h.banks["097"].SetFaults(banksim.Faults{LostResponseRate: 1})
		id := h.a.BankTranID()
		if r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, id, fin, cntr, "23456")); hubtest.Code(r) != "A0001" {
			t.Fatalf("withdraw with the credit's answer lost: %v, want A0001", r)
		}
		h.banks["097"].SetFaults(banksim.Faults{})
		ctx := context.Background()
		sqlDB := h.db.SQL()
		var tid, state string
		if err := sqlDB.QueryRowContext(ctx, `SELECT id, state FROM transfers WHERE bank_tran_id = $1`, id).Scan(&tid, &state); err != nil {
			t.Fatal(err)
		}
		if state != obx.TransferCrediting {
			t.Fatalf("a transfer whose credit is in doubt is saved as %q, want %q", state, obx.TransferCrediting)
		}
		if _, err := sqlDB.ExecContext(ctx, `UPDATE transfers SET state = $1, debit_rsp_code = '', debit_day = '' WHERE id = $2`,
			obx.TransferDebiting, tid); err != nil {
			t.Fatal(err)
		}
		if n, err := h.transfers.Recover(ctx, 10); err != nil || n != 1 {
			t.Fatalf("Recover = %d, %v; want 1 transfer", n, err)
		}
		if err := sqlDB.QueryRowContext(ctx, `SELECT state FROM transfers WHERE id = $1`, tid).Scan(&state); err != nil || state != obx.TransferCompleted {
			t.Fatalf("after recovery the transfer is %q (%v), want completed", state, err)
		}
		if got, want := h.balanceAt(t, "088", num), custBefore-23456; got != want {
			t.Errorf("customer's balance %d, want %d", got, want)
		}
		if got, want := h.balanceAt(t, "097", cntr), tspBefore+23456; got != want {
			t.Errorf("TSP's balance %d, want %d", got, want)
		}
		var listed int
		if err := sqlDB.QueryRowContext(ctx, `SELECT COUNT(*) FROM unfinished_transfers`).Scan(&listed); err != nil || listed != 0 {
			t.Errorf("unfinished_transfers holds %d rows (%v) after recovery, want 0", listed, err)
		}
	})
}

// TestLimitsHoldUnderConcurrency: many withdrawals at once through two hub
// "replicas" sharing the database can never together exceed the TSP's limit.
func TestLimitsHoldUnderConcurrency(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		h.dbSetLimits(t, 100_000, 0, 0)
		var toks, fins []string
		for _, c := range banksim.DemoCustomers(1)[:4] {
			tok, seq := userToken(t, h.a, c, "097", "login inquiry transfer")
			toks = append(toks, tok)
			fins = append(fins, demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["097"]))
		}
		const n = 24 // 24 × 7,000 = 168,000 requested against a 100,000 limit
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := i % len(toks)
				r := h.a.Post(t, toks[k], "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fins[k], contractAccount(0), "7000"))
				codes[i] = hubtest.Code(r)
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case "A0000":
				ok++
			case "A0103":
			default:
				t.Errorf("unexpected code %s", c)
			}
		}
		if ok != 100_000/7000 {
			t.Errorf("%d withdrawals of 7,000 succeeded under a 100,000 limit, want %d (codes %v)", ok, 100_000/7000, codes)
		}
		r := h.b.Get(t, h.b.InstitutionToken(t, "sa"), "/v2.0/transfer/user_remain_amt", nil)
		_ = r
	})
}

// TestTransfersByAccountNumber covers the acnt_num variants: a
// self-authenticating TSP withdraws naming the account by number and user,
// and deposits to an account named by number and holder.
func TestTransfersByAccountNumber(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.b, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.b, tok, accounts(t, h.b, tok, seq)["088"])
		a, err := h.db.Account(context.Background(), h.tspB.ID, fin)
		if err != nil {
			t.Fatal(err)
		}
		sa := h.b.InstitutionToken(t, "sa")
		cntr := contractAccount(1)
		before := h.balanceAt(t, "088", a.Number)

		body := withdrawBody(h.b, h.b.BankTranID(), "", cntr, "3000")
		delete(body, "fintech_use_num")
		body["wd_bank_code_std"], body["wd_account_num"], body["user_seq_no"] = "088", a.Number, seq
		delete(body, "req_client_fintech_use_num")
		body["req_client_bank_code"], body["req_client_account_num"] = "088", a.Number
		if r := h.b.Post(t, sa, "/v2.0/transfer/withdraw/acnt_num", body); hubtest.Code(r) != "A0000" || hubtest.Str(r, "bank_rsp_code") != "000" {
			t.Fatalf("withdraw/acnt_num: %v", r)
		}
		if got := h.balanceAt(t, "088", a.Number); got != before-3000 {
			t.Errorf("balance %d, want %d", got, before-3000)
		}
		body["bank_tran_id"], body["user_seq_no"] = h.b.BankTranID(), "1000000001"
		if got := hubtest.Code(h.b.Post(t, sa, "/v2.0/transfer/withdraw/acnt_num", body)); got != "A0313" {
			t.Errorf("withdraw/acnt_num for another user: %s, want A0313", got)
		}
		if got := hubtest.Code(h.a.Post(t, h.a.InstitutionToken(t, "oob"), "/v2.0/transfer/withdraw/acnt_num", body)); got != "O0011" {
			t.Errorf("withdraw/acnt_num with oob: %s, want O0011", got)
		}

		dep := func(holder string) map[string]any {
			d := depositBody(h.b.BankTranID(), "", cntr, "NONE", "2500")
			item := d["req_list"].([]map[string]any)[0]
			delete(item, "fintech_use_num")
			item["bank_code_std"], item["account_num"], item["account_holder_name"] = "088", a.Number, holder
			return d
		}
		mid := h.balanceAt(t, "088", a.Number)
		d := h.b.Post(t, sa, "/v2.0/transfer/deposit/acnt_num", dep(a.HolderName))
		its := hubtest.List(d, "res_list")
		if hubtest.Code(d) != "A0000" || len(its) != 1 || hubtest.Str(its[0], "account_num") != a.Number {
			t.Fatalf("deposit/acnt_num: %v", d)
		}
		if _, ok := its[0]["fintech_use_num"]; ok {
			t.Errorf("deposit/acnt_num item carries fintech_use_num: %v", its[0])
		}
		tspMid := h.balanceAt(t, "097", cntr)
		d = h.b.Post(t, sa, "/v2.0/transfer/deposit/acnt_num", dep("홍길동아님"))
		its = hubtest.List(d, "res_list")
		if hubtest.Code(d) != "A0009" || hubtest.Str(its[0], "bank_rsp_code") != "815" {
			t.Errorf("deposit to a wrong holder name: %v, want A0009 with 815", d)
		}
		if h.balanceAt(t, "088", a.Number) != mid+2500 || h.balanceAt(t, "097", cntr) != tspMid {
			t.Errorf("a refused deposit moved money")
		}
	})
}

func TestRealNameAndReceive(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry")
		fin := accounts(t, h.a, tok, seq)["088"][0]
		num := h.numberOf(t, fin)
		oob := h.a.InstitutionToken(t, "oob")
		realName := func(acct, infoType, info string) map[string]any {
			return h.a.Post(t, oob, "/v2.0/inquiry/real_name", map[string]any{"bank_tran_id": h.a.BankTranID(),
				"bank_code_std": "088", "account_num": acct, "account_holder_info_type": infoType,
				"account_holder_info": info, "tran_dtime": hubtest.TranDtime()})
		}
		r := realName(num, " ", c.BirthDate[2:])
		if hubtest.Code(r) != "A0000" || hubtest.Str(r, "account_holder_name") != c.Name || hubtest.Str(r, "account_num") != num {
			t.Errorf("real_name: %v", r)
		}
		if r := realName(num, "N", ""); hubtest.Code(r) != "A0000" {
			t.Errorf("real_name without identity check: %v", r)
		}
		if r := realName(num, " ", "000101"); hubtest.Code(r) != "A0002" || hubtest.Str(r, "bank_rsp_code") != "463" {
			t.Errorf("real_name with a wrong birth date: %v, want A0002 463", r)
		}
		if r := realName(num, " ", "12345"); hubtest.Code(r) != "A0321" {
			t.Errorf("real_name with a 5-digit birth date: %v, want A0321", r)
		}
		if r := realName("99999999999", "N", ""); hubtest.Code(r) != "A0002" || hubtest.Str(r, "bank_rsp_code") != "412" {
			t.Errorf("real_name of no account: %v, want A0002 412", r)
		}
		receive := func(extra map[string]any) map[string]any {
			b := map[string]any{"bank_tran_id": h.a.BankTranID(), "cntr_account_type": "N", "cntr_account_num": contractAccount(0),
				"print_content": "환불", "tran_amt": "1000", "req_client_name": "오비엑스", "req_client_num": "1", "transfer_purpose": "TR"}
			for k, v := range extra {
				b[k] = v
			}
			return h.a.Post(t, oob, "/v2.0/inquiry/receive", b)
		}
		r = receive(map[string]any{"fintech_use_num": fin})
		if hubtest.Code(r) != "A0000" || hubtest.Str(r, "account_holder_name") != c.Name || hubtest.Str(r, "account_num") != "" ||
			hubtest.Str(r, "wd_account_num") != contractAccount(0) {
			t.Errorf("receive by fintech number: %v", r)
		}
		if r := receive(map[string]any{"bank_code_std": "088", "account_num": num}); hubtest.Code(r) != "A0000" || hubtest.Str(r, "account_num") != num {
			t.Errorf("receive by account number: %v", r)
		}
		if r := receive(map[string]any{"bank_code_std": "088", "account_num": num, "cntr_account_num": "123"}); hubtest.Code(r) != "A0322" {
			t.Errorf("receive with an unregistered contract account: %v, want A0322", r)
		}
		if r := receive(map[string]any{"fintech_use_num": fin, "bank_code_std": "088", "account_num": num}); hubtest.Code(r) != "A0004" {
			t.Errorf("receive naming the recipient twice: %v, want A0004", r)
		}
	})
}

func TestReturnClaims(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry")
		fin := accounts(t, h.a, tok, seq)["088"][0]
		num, cntr := h.numberOf(t, fin), contractAccount(0)
		oob := h.a.InstitutionToken(t, "oob")
		today := hubtest.Today()
		deposit := func(amt string) string {
			id := h.a.BankTranID()
			if r := h.a.Post(t, oob, "/v2.0/transfer/deposit/fin_num", depositBody(id, fin, cntr, "NONE", amt)); hubtest.Code(r) != "A0000" {
				t.Fatalf("deposit: %v", r)
			}
			return id
		}
		claim := func(orgID, code, amt string, extra map[string]any) map[string]any {
			b := map[string]any{"bank_tran_id": h.a.BankTranID(), "org_bank_tran_date": today, "org_bank_tran_id": orgID,
				"org_dps_bank_code_std": "088", "org_dps_fintech_use_num": fin, "org_tran_amt": amt, "org_wd_bank_code_std": "097",
				"claim_code": code, "claim_message": "이중입금", "total_return_yn": "Y", "return_account_num": cntr,
				"use_org_contact": "0212345678", "use_org_email": "ops@tsp.example"}
			for k, v := range extra {
				b[k] = v
			}
			return h.a.Post(t, oob, "/v2.0/return/claim", b)
		}

		orgID := deposit("40000")
		cust, tsp := h.balanceAt(t, "088", num), h.balanceAt(t, "097", cntr)
		r := claim(orgID, "04", "40000", nil)
		if hubtest.Code(r) != "A0000" || hubtest.Str(r, "return_state") != "Y" || hubtest.Str(r, "return_amt") != "40000" {
			t.Fatalf("return/claim of a double deposit: %v", r)
		}
		if h.balanceAt(t, "088", num) != cust-40000 || h.balanceAt(t, "097", cntr) != tsp+40000 {
			t.Errorf("the claim did not return the money")
		}
		if got := hubtest.Code(claim(orgID, "04", "40000", nil)); got != "A0008" {
			t.Errorf("a second claim of the same deposit: %s, want A0008", got)
		}
		res := h.a.Post(t, oob, "/v2.0/return/result", map[string]any{"claim_bank_tran_date": today, "claim_bank_tran_id": hubtest.Str(r, "claim_bank_tran_id")})
		if hubtest.Code(res) != "A0000" || hubtest.Str(res, "return_state") != "Y" || hubtest.Str(res, "org_bank_tran_id") != orgID {
			t.Errorf("return/result: %v", res)
		}

		other := deposit("1000")
		cust = h.balanceAt(t, "088", num)
		if r := claim(other, "05", "1000", nil); hubtest.Code(r) != "A0002" || hubtest.Str(r, "return_state") != "N" {
			t.Errorf("a claim the recipient refuses: %v, want A0002 and return_state N", r)
		}
		if h.balanceAt(t, "088", num) != cust {
			t.Error("a refused claim moved money")
		}
		if r := claim(other, "03", "1000", map[string]any{"total_return_yn": "N", "return_amt": "400"}); hubtest.Code(r) != "A0000" || hubtest.Str(r, "return_amt") != "400" {
			t.Errorf("a partial claim after a refusal: %v", r)
		}
		for name, r := range map[string]map[string]any{
			"unknown deposit":  claim(h.a.BankTranID(), "04", "1000", nil),
			"wrong amount":     claim(other, "04", "999", nil),
			"wrong recipient":  claim(other, "04", "1000", map[string]any{"org_dps_bank_code_std": "097"}),
			"more than it was": claim(other, "03", "1000", map[string]any{"total_return_yn": "N", "return_amt": "5000"}),
		} {
			if code := hubtest.Code(r); code != "A0310" && code != "A0004" {
				t.Errorf("%s: %s, want A0310 or A0004", name, code)
			}
		}
	})
}

func TestRemitList(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		cntr := contractAccount(0)
		const n = 30 // more than one page
		for i := range n {
			if r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, cntr, strconv.Itoa(1000+i))); hubtest.Code(r) != "A0000" {
				t.Fatalf("withdraw %d: %v", i, r)
			}
		}
		oob := h.a.InstitutionToken(t, "oob")
		today := hubtest.Today()
		walk := func(order string) []string {
			var amts []string
			cursor := ""
			for range 10 {
				r := h.a.Post(t, oob, "/v2.0/inquiry/remit_list", map[string]any{"bank_tran_id": h.a.BankTranID(),
					"bank_code_std": "097", "account_num": cntr, "from_date": today, "to_date": today, "sort_order": order,
					"befor_inquiry_trace_info": cursor, "tran_dtime": hubtest.TranDtime()})
				if hubtest.Code(r) != "A0000" || hubtest.Str(r, "total_record_cnt") != strconv.Itoa(n) {
					t.Fatalf("remit_list: %v", r)
				}
				for _, it := range hubtest.List(r, "res_list") {
					if hubtest.Str(it, "remitter_name") != c.Name || hubtest.Str(it, "remitter_bank_code") != "088" {
						t.Errorf("remittance %v", it)
					}
					amts = append(amts, hubtest.Str(it, "tran_amt"))
				}
				if hubtest.Str(r, "next_page_yn") == "N" {
					return amts
				}
				cursor = hubtest.Str(r, "befor_inquiry_trace_info")
			}
			t.Fatal("remit_list does not end")
			return nil
		}
		asc, desc := walk("A"), walk("D")
		if len(asc) != n || len(desc) != n {
			t.Fatalf("walked %d ascending, %d descending, want %d", len(asc), len(desc), n)
		}
		for i := range n {
			if asc[i] != strconv.Itoa(1000+i) || desc[n-1-i] != asc[i] {
				t.Fatalf("order: asc %v desc %v", asc, desc)
			}
		}
		if r := h.a.Post(t, oob, "/v2.0/inquiry/remit_list", map[string]any{"bank_tran_id": h.a.BankTranID(),
			"bank_code_std": "097", "account_num": contractAccount(1), "from_date": today, "to_date": today,
			"tran_dtime": hubtest.TranDtime()}); hubtest.Code(r) != "A0322" {
			t.Errorf("remit_list of another TSP's account: %s, want A0322", hubtest.Code(r))
		}
	})
}

// TestSuspendedTSP: a suspended TSP's calls answer A0013 at once and move no
// money; reinstated, they work again.
func TestSuspendedTSP(t *testing.T) {
	h := newHub(t, dbtest.Engines()[0], hubOptions{})
	c := customer(t)
	tok, seq := userToken(t, h.a, c, "097", "login inquiry transfer")
	fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["097"])
	before := h.balanceAt(t, "097", h.numberOf(t, fin))
	setStatus := func(status string) {
		if _, err := h.db.SQL().Exec(`UPDATE tsps SET status = $1 WHERE id = $2`, status, h.tspA.ID); err != nil {
			t.Fatal(err)
		}
	}
	setStatus("suspended")
	r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, contractAccount(0), "1000"))
	if hubtest.Code(r) != "A0013" || hubtest.Str(r, "api_tran_id") == "" {
		t.Errorf("withdraw by a suspended TSP: %v, want A0013 with the envelope", r)
	}
	if got := hubtest.Code(h.a.Get(t, tok, "/v2.0/user/me", vals("user_seq_no", seq))); got != "A0013" {
		t.Errorf("user/me by a suspended TSP: %s, want A0013", got)
	}
	if h.balanceAt(t, "097", h.numberOf(t, fin)) != before {
		t.Error("a suspended TSP moved money")
	}
	setStatus("active")
	if got := hubtest.Code(h.a.Get(t, tok, "/v2.0/user/me", vals("user_seq_no", seq))); got != "A0000" {
		t.Errorf("user/me after reinstatement: %s", got)
	}
}

// TestIndividualGuaranteeOpensBankByBank: under individual bank guarantees
// (rules.md §5.3) withdrawals from accounts at a bank open only once that
// bank agreed; until then they are refused with A0327 and move no money.
func TestIndividualGuaranteeOpensBankByBank(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "088", "login inquiry transfer")
		fin := demandAccount(t, h.a, tok, accounts(t, h.a, tok, seq)["088"])
		num := h.numberOf(t, fin)
		cntr := contractAccount(0)
		const at = "2026-01-01T00:00:00.000000000Z"
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := h.db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO admission_contracts (tsp_id, main_bank, main_bank_fee, daily_withdraw_limit, user_daily_limit,
			per_transfer_limit, daily_deposit_limit, large, guarantee, guarantee_percent, insured_amount, requested_at)
			VALUES ($1, '097', 0, 0, 0, 0, 0, TRUE, $2, 0, 0, $3)`, h.tspA.ID, obx.GuaranteeIndividual, at)
		exec(`INSERT INTO bank_guarantees (tsp_id, bank_code, limit_amount) VALUES ($1, '088', 1000000)`, h.tspA.ID)
		exec(`INSERT INTO bank_guarantees (tsp_id, bank_code, limit_amount, agreed_at) VALUES ($1, '004', 1000000, $2)`, h.tspA.ID, at)

		before := h.balanceAt(t, "088", num)
		r := h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, cntr, "1000"))
		if hubtest.Code(r) != "A0327" {
			t.Fatalf("withdrawal from a bank that has not agreed: %s, want A0327", hubtest.Code(r))
		}
		if now := h.balanceAt(t, "088", num); now != before {
			t.Errorf("a refused withdrawal moved money: %d → %d", before, now)
		}
		// Inquiries stay open meanwhile.
		if got := hubtest.Code(h.a.Get(t, tok, "/v2.0/account/balance/fin_num", vals("fintech_use_num", fin, "tran_dtime", hubtest.TranDtime(), "bank_tran_id", h.a.BankTranID()))); got != "A0000" {
			t.Errorf("balance inquiry while withdrawals are closed: %s, want A0000", got)
		}

		exec(`UPDATE bank_guarantees SET agreed_at = $2 WHERE tsp_id = $1 AND bank_code = '088'`, h.tspA.ID, at)
		r = h.a.Post(t, tok, "/v2.0/transfer/withdraw/fin_num", withdrawBody(h.a, h.a.BankTranID(), fin, cntr, "1000"))
		if hubtest.Code(r) != "A0000" {
			t.Fatalf("withdrawal once the bank agreed: %s (%s), want A0000", hubtest.Code(r), hubtest.Str(r, "rsp_message"))
		}
		if now := h.balanceAt(t, "088", num); now != before-1000 {
			t.Errorf("balance %d, want %d", now, before-1000)
		}
	})
}
