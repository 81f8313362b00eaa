package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
)

// accounts returns the fintech use numbers of the user's accounts by bank.
func accounts(t testing.TB, tsp *hubtest.TSP, token, seq string) map[string][]string {
	t.Helper()
	me := tsp.Get(t, token, "/v2.0/user/me", vals("user_seq_no", seq))
	if hubtest.Code(me) != "A0000" {
		t.Fatalf("user/me: %v", me)
	}
	out := map[string][]string{}
	for _, a := range hubtest.List(me, "res_list") {
		out[hubtest.Str(a, "bank_code_std")] = append(out[hubtest.Str(a, "bank_code_std")], hubtest.Str(a, "fintech_use_num"))
	}
	return out
}

// demandAccount returns a fintech use number at bank whose balance answers
// and whose history is not empty.
func demandAccount(t testing.TB, tsp *hubtest.TSP, token string, nums []string) string {
	t.Helper()
	for _, n := range nums {
		b := tsp.Get(t, token, "/v2.0/account/balance/fin_num",
			vals("bank_tran_id", tsp.BankTranID(), "fintech_use_num", n, "tran_dtime", hubtest.TranDtime()))
		if hubtest.Code(b) == "A0000" && hubtest.Str(b, "account_type") == "1" {
			return n
		}
	}
	t.Fatalf("no demand account among %v", nums)
	return ""
}

func TestInquiryFlow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok1, seq := userToken(t, h.a, c, "097", "login inquiry transfer")
		tok2, seq2 := userToken(t, h.a, c, "088", "login inquiry")
		if seq2 != seq {
			t.Fatalf("second consent gave user %s, want %s", seq2, seq)
		}

		byBank := accounts(t, h.a, tok2, seq)
		if len(byBank["097"]) == 0 || len(byBank["088"]) == 0 {
			t.Fatalf("user/me accounts by bank = %v, want both banks", byBank)
		}
		// The first token sees the accounts registered later too: consent is per user.
		if got := accounts(t, h.a, tok1, seq); len(got["088"]) != len(byBank["088"]) {
			t.Errorf("first token sees %v, second %v", got, byBank)
		}

		list := h.a.Get(t, tok1, "/v2.0/account/list", vals("user_seq_no", seq, "include_cancel_yn", "N", "sort_order", "D"))
		if hubtest.Code(list) != "A0000" || hubtest.Str(list, "res_cnt") != strconv.Itoa(len(hubtest.List(list, "res_list"))) {
			t.Fatalf("account/list: %v", list)
		}
		for _, a := range hubtest.List(list, "res_list") {
			if hubtest.Str(a, "account_state") != "01" || !strings.HasSuffix(hubtest.Str(a, "account_num_masked"), "***") {
				t.Errorf("account/list item %v", a)
			}
			if _, ok := a["account_num"]; ok {
				t.Errorf("account_num shown to a non-sa TSP: %v", a)
			}
		}

		for _, bank := range []string{"097", "088"} {
			num := demandAccount(t, h.a, tok1, byBank[bank])
			bal := h.a.Get(t, tok1, "/v2.0/account/balance/fin_num",
				vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", num, "tran_dtime", hubtest.TranDtime()))
			if hubtest.Str(bal, "bank_code_tran") != bank || hubtest.Str(bal, "bank_rsp_code") != "000" {
				t.Errorf("balance at %s: %v", bank, bal)
			}
			if _, err := strconv.ParseInt(hubtest.Str(bal, "balance_amt"), 10, 64); err != nil {
				t.Errorf("balance_amt %q", hubtest.Str(bal, "balance_amt"))
			}
			desc := walkHistory(t, h.a, tok1, num, "D")
			asc := walkHistory(t, h.a, tok1, num, "A")
			if len(desc) < 26 {
				t.Fatalf("history at %s has %d entries; want more than one page", bank, len(desc))
			}
			slices.Reverse(asc)
			if !slices.Equal(asc, desc) {
				t.Errorf("ascending and descending walks differ at %s (%d vs %d entries)", bank, len(asc), len(desc))
			}
		}
	})
}

// walkHistory pages through six months of history and returns one line per
// entry, checking page sizes, order and the cursor protocol on the way.
func walkHistory(t *testing.T, tsp *hubtest.TSP, token, num, order string) []string {
	t.Helper()
	from := time.Now().AddDate(0, -7, 0).Format("20060102")
	to := hubtest.Today()
	var out []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("history does not end")
		}
		r := tsp.Get(t, token, "/v2.0/account/transaction_list/fin_num", vals(
			"bank_tran_id", tsp.BankTranID(), "fintech_use_num", num, "inquiry_type", "A", "inquiry_base", "D",
			"from_date", from, "to_date", to, "sort_order", order, "tran_dtime", hubtest.TranDtime(),
			"befor_inquiry_trace_info", cursor))
		if hubtest.Code(r) != "A0000" {
			t.Fatalf("transaction_list: %v", r)
		}
		items := hubtest.List(r, "res_list")
		if n, _ := strconv.Atoi(hubtest.Str(r, "page_record_cnt")); n != len(items) || n > 25 {
			t.Fatalf("page_record_cnt %s with %d items", hubtest.Str(r, "page_record_cnt"), len(items))
		}
		for _, it := range items {
			key := hubtest.Str(it, "tran_date") + hubtest.Str(it, "tran_time")
			if len(out) > 0 {
				prev := out[len(out)-1][:14]
				if (order == "D" && key > prev) || (order == "A" && key < prev) {
					t.Fatalf("order %s broken: %s after %s", order, key, prev)
				}
			}
			out = append(out, key+" "+hubtest.Str(it, "inout_type")+" "+hubtest.Str(it, "tran_amt")+" "+hubtest.Str(it, "after_balance_amt")+" "+hubtest.Str(it, "print_content"))
		}
		cursor = hubtest.Str(r, "befor_inquiry_trace_info")
		if hubtest.Str(r, "next_page_yn") == "N" {
			return out
		}
		if cursor == "" || len(cursor) > 20 {
			t.Fatalf("next_page_yn Y with cursor %q", cursor)
		}
	}
}

func TestMisuse(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newHub(t, e, hubOptions{})
		c := customer(t)
		tok, seq := userToken(t, h.a, c, "097", "login inquiry transfer")
		nums := accounts(t, h.a, tok, seq)["097"]
		num := demandAccount(t, h.a, tok, nums)
		loginOnly, _ := userToken(t, h.a, c, "097", "login")
		oob := h.a.InstitutionToken(t, "oob")
		saB := h.b.InstitutionToken(t, "sa")
		_, seqB := userToken(t, h.b, c, "097", "login inquiry")
		if seqB != seq {
			t.Fatalf("same person got user %s at B and %s at A", seqB, seq)
		}
		balance := func(token, fin string) map[string]any {
			return h.a.Get(t, token, "/v2.0/account/balance/fin_num",
				vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", fin, "tran_dtime", hubtest.TranDtime()))
		}
		raw := func(method, path, auth, ctype, body string) map[string]any {
			req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			return h.a.Do(t, req)
		}
		balPath := "/v2.0/account/balance/fin_num?" + vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", num, "tran_dtime", hubtest.TranDtime()).Encode()

		tests := []struct {
			name string
			resp func() map[string]any
			want string
		}{
			{"no authorization header", func() map[string]any { return raw("GET", balPath, "", "", "") }, "O0001"},
			{"garbage token", func() map[string]any { return raw("GET", balPath, "Bearer nonsense.token", "", "") }, "O0002"},
			{"Bearer without a space", func() map[string]any { return raw("GET", balPath, "Bearer"+tok, "", "") }, "A0000"},
			{"lower-case bearer", func() map[string]any { return raw("GET", balPath, "bearer  "+tok, "", "") }, "A0000"},
			{"institution token on balance", func() map[string]any { return balance(oob, num) }, "O0011"},
			{"login-only token on balance", func() map[string]any { return balance(loginOnly, num) }, "O0011"},
			{"another TSP's fintech number", func() map[string]any {
				return h.b.Get(t, saB, "/v2.0/account/balance/fin_num",
					vals("bank_tran_id", h.b.BankTranID(), "fintech_use_num", num, "tran_dtime", hubtest.TranDtime()))
			}, "A0304"},
			{"unknown fintech number", func() map[string]any { return balance(tok, "199000000100000000000000") }, "A0304"},
			{"another user's user_seq_no", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/user/me", vals("user_seq_no", "1000000001"))
			}, "A0313"},
			{"bank_tran_id of another TSP", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/account/balance/fin_num",
					vals("bank_tran_id", "T990000002U000000001", "fintech_use_num", num, "tran_dtime", hubtest.TranDtime()))
			}, "A0004"},
			{"missing tran_dtime", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/account/balance/fin_num", vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", num))
			}, "A0004"},
			{"malformed fintech number", func() map[string]any { return balance(tok, "12345") }, "A0004"},
			{"bad date", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/account/transaction_list/fin_num", vals("bank_tran_id", h.a.BankTranID(),
					"fintech_use_num", num, "inquiry_type", "A", "inquiry_base", "D", "from_date", "20261340",
					"to_date", "20261231", "sort_order", "D", "tran_dtime", hubtest.TranDtime()))
			}, "A0004"},
			{"period ends before it starts", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/account/transaction_list/fin_num", vals("bank_tran_id", h.a.BankTranID(),
					"fintech_use_num", num, "inquiry_type", "A", "inquiry_base", "D", "from_date", "20261201",
					"to_date", "20261101", "sort_order", "D", "tran_dtime", hubtest.TranDtime()))
			}, "A0004"},
			{"bad cursor", func() map[string]any {
				return h.a.Get(t, tok, "/v2.0/account/transaction_list/fin_num", vals("bank_tran_id", h.a.BankTranID(),
					"fintech_use_num", num, "inquiry_type", "A", "inquiry_base", "D", "from_date", "20260101",
					"to_date", "20261231", "sort_order", "D", "tran_dtime", hubtest.TranDtime(), "befor_inquiry_trace_info", "!!"))
			}, "A0004"},
			{"wrong method", func() map[string]any { return raw("POST", balPath, "Bearer "+tok, "", "") }, "O0010"},
			{"unknown API", func() map[string]any { return raw("GET", "/v2.0/nothing/here", "Bearer "+tok, "", "") }, "O0005"},
			{"malformed JSON", func() map[string]any {
				return raw("POST", "/v2.0/account/update_info", "Bearer "+tok, "application/json", `{"fintech_use_num":`)
			}, "A0004"},
			{"oversized body", func() map[string]any {
				return raw("POST", "/v2.0/account/update_info", "Bearer "+tok, "application/json", `{"a":"`+strings.Repeat("x", 70000)+`"}`)
			}, "A0004"},
			{"update_info with JSON and no Content-Type", func() map[string]any {
				return raw("POST", "/v2.0/account/update_info", "Bearer "+tok, "", `{"fintech_use_num":"`+num+`","account_alias":"생활비"}`)
			}, "A0000"},
			{"unlink with the wrong client_use_code", func() map[string]any {
				return h.a.Post(t, tok, "/v2.0/user/unlink", map[string]any{"client_use_code": "T990000002", "user_seq_no": seq})
			}, "A0004"},
			{"bank status with a user token", func() map[string]any { return h.a.Get(t, tok, "/v2.0/bank/status", nil) }, "O0011"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := tt.resp()
				if got := hubtest.Code(r); got != tt.want {
					t.Errorf("rsp_code = %s (%s), want %s", got, hubtest.Str(r, "rsp_message"), tt.want)
				}
				if strings.HasPrefix(tt.want, "O") {
					for k := range r {
						if k != "rsp_code" && k != "rsp_message" {
							t.Errorf("gateway error has field %s", k)
						}
					}
				}
			})
		}

		// Consent states, each answered with its own code.
		t.Run("consent missing", func(t *testing.T) {
			trTok, trSeq := userToken(t, h.a, c, "088", "login transfer")
			fin := accounts(t, h.a, trTok, trSeq)["088"][0]
			if got := hubtest.Code(balance(trTok, fin)); got != "O0011" {
				t.Errorf("transfer-only token on balance: %s", got)
			}
			if got := hubtest.Code(balance(tok, fin)); got != "A0305" {
				t.Errorf("account without inquiry consent: %s, want A0305", got)
			}
		})
		t.Run("consent expired", func(t *testing.T) {
			other := nums[len(nums)-1]
			if _, err := h.db.SQL().Exec(`UPDATE accounts SET inquiry_expires_at = $1 WHERE fintech_use_num = $2`,
				expiredValue(h.db.Engine()), other); err != nil {
				t.Fatal(err)
			}
			if got := hubtest.Code(balance(tok, other)); got != "A0316" {
				t.Errorf("expired consent: %s, want A0316", got)
			}
		})
		t.Run("cancelled account", func(t *testing.T) {
			for _, scope := range []string{"inquiry", "transfer"} {
				r := h.a.Post(t, tok, "/v2.0/account/cancel", map[string]any{"bank_tran_id": h.a.BankTranID(), "scope": scope, "fintech_use_num": num})
				if hubtest.Code(r) != "A0000" || hubtest.Str(r, "bank_rsp_code") != "000" {
					t.Fatalf("account/cancel %s: %v", scope, r)
				}
			}
			if got := hubtest.Code(balance(tok, num)); got != "A0323" {
				t.Errorf("balance of cancelled account: %s, want A0323", got)
			}
			list := h.a.Get(t, tok, "/v2.0/account/list", vals("user_seq_no", seq, "include_cancel_yn", "Y"))
			found := false
			for _, a := range hubtest.List(list, "res_list") {
				if hubtest.Str(a, "fintech_use_num") == num {
					found = hubtest.Str(a, "account_state") == "09" && hubtest.Str(a, "inquiry_agree_yn") == "N"
				}
			}
			if !found {
				t.Errorf("cancelled account not listed as 09 with include_cancel_yn=Y: %v", list)
			}
		})
		t.Run("unlink revokes the tokens at once", func(t *testing.T) {
			// JSON numbers where the spec says strings are accepted.
			r := h.a.Post(t, tok, "/v2.0/user/unlink", map[string]any{"client_use_code": "T990000001", "user_seq_no": mustAtoi(t, seq)})
			if hubtest.Code(r) != "A0000" || hubtest.Str(r, "user_seq_no") != seq {
				t.Fatalf("user/unlink: %v", r)
			}
			if got := hubtest.Code(h.a.Get(t, tok, "/v2.0/user/me", vals("user_seq_no", seq))); got != "O0002" {
				t.Errorf("token after unlink: %s, want O0002", got)
			}
			if got := hubtest.Code(h.a.Get(t, loginOnly, "/v2.0/user/me", vals("user_seq_no", seq))); got != "O0002" {
				t.Errorf("another token of the user after unlink: %s, want O0002", got)
			}
			// B's consent is untouched.
			if got := hubtest.Code(h.b.Get(t, saB, "/v2.0/user/me", vals("user_seq_no", seq))); got != "A0000" {
				t.Errorf("other TSP after unlink: %s", got)
			}
		})
		t.Run("close", func(t *testing.T) {
			// A form-encoded close, as one real client sends it.
			req, _ := http.NewRequest("POST", h.srv.URL+"/v2.0/user/close", strings.NewReader("client_use_code=T990000002&user_seq_no="+seq))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+saB)
			if r := h.b.Do(t, req); hubtest.Code(r) != "A0000" {
				t.Fatalf("user/close: %v", r)
			}
			if got := hubtest.Code(h.b.Get(t, saB, "/v2.0/user/me", vals("user_seq_no", seq))); got != "A0014" {
				t.Errorf("user/me after close: %s, want A0014", got)
			}
			if got := hubtest.Code(h.b.Post(t, saB, "/v2.0/user/close", map[string]any{"client_use_code": "T990000002", "user_seq_no": seq})); got != "A0014" {
				t.Errorf("second close: %s, want A0014", got)
			}
		})
	})
}

func expiredValue(engine string) any {
	t := time.Now().Add(-time.Hour).UTC()
	if engine == "sqlite" {
		return t.Format("2006-01-02T15:04:05.000000000Z")
	}
	return t
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBankFaults(t *testing.T) {
	h := newHub(t, dbtest.Engines()[0], hubOptions{bankTimeout: 300 * time.Millisecond})
	c := customer(t)
	tok, seq := userToken(t, h.a, c, "097", "login inquiry")
	tok2, _ := userToken(t, h.a, c, "088", "login inquiry")
	byBank := accounts(t, h.a, tok2, seq)
	at097, at088 := demandAccount(t, h.a, tok, byBank["097"]), demandAccount(t, h.a, tok, byBank["088"])
	oob := h.a.InstitutionToken(t, "oob")
	balance := func(fin string) map[string]any {
		return h.a.Get(t, tok, "/v2.0/account/balance/fin_num",
			vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", fin, "tran_dtime", hubtest.TranDtime()))
	}
	status := func() map[string]string {
		out := map[string]string{}
		for _, it := range hubtest.List(h.a.Get(t, oob, "/v2.0/bank/status", nil), "res_list") {
			out[hubtest.Str(it, "bank_code_std")] = hubtest.Str(it, "bank_status")
		}
		return out
	}
	if st := status(); st["097"] != "Y" || st["088"] != "Y" {
		t.Fatalf("bank/status = %v, want both Y", st)
	}

	h.banks["097"].SetFaults(banksim.Faults{Maintenance: true, MaintenanceUntil: time.Now().Add(time.Hour)})
	if r := balance(at097); hubtest.Code(r) != "A0020" || hubtest.Str(r, "bank_code_tran") != "097" {
		t.Errorf("balance in maintenance: %v, want A0020 from 097", r)
	}
	if st := status(); st["097"] != "M" || st["088"] != "Y" {
		t.Errorf("bank/status in maintenance = %v", st)
	}

	// A bank that never answers costs one timeout, and the other bank answers
	// while a call to it is still waiting.
	h.banks["097"].SetFaults(banksim.Faults{TimeoutRate: 1})
	slow := make(chan map[string]any)
	go func() { slow <- balance(at097) }()
	if r := balance(at088); hubtest.Code(r) != "A0000" {
		t.Errorf("healthy bank during another's timeout: %v", r)
	}
	if r := <-slow; hubtest.Code(r) != "A0017" {
		t.Errorf("timed-out bank: %v, want A0017", r)
	}

	// Down: refusals trip the breaker after three failures; later calls fail
	// fast with A0002 and the bank shows N.
	h.banks["097"].SetFaults(banksim.Faults{Down: true})
	for i := 0; i < 4; i++ {
		if r := balance(at097); hubtest.Code(r) != "A0002" || hubtest.Str(r, "bank_code_tran") != "097" {
			t.Errorf("balance at a down bank: %v, want A0002 from 097", r)
		}
	}
	g, _ := h.dir.Guarded("097")
	if !g.Open() {
		t.Error("breaker did not open after repeated failures")
	}
	h.banks["097"].SetFaults(banksim.Faults{})
	if st := status(); st["097"] != "N" {
		t.Errorf("bank/status with open breaker = %v, want 097 N", st)
	}
	if r := balance(at088); hubtest.Code(r) != "A0000" {
		t.Errorf("other bank while 097's breaker is open: %v", r)
	}
}

func TestProbesAndMetrics(t *testing.T) {
	h := newHub(t, dbtest.Engines()[0], hubOptions{})
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(h.srv.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", p, resp.StatusCode, err)
		}
	}
	h.a.Get(t, "", "/v2.0/user/me", nil) // one O0001, to be counted
	resp, err := http.Get(h.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`obx_http_requests_total{route="GET /v2.0/user/me",rsp_code="O0001",status="200"} 1`, "obx_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_ = context.Background
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAccessLog(t *testing.T) {
	var log syncBuffer
	h := newHub(t, dbtest.Engines()[0], hubOptions{log: &log})
	c := customer(t)
	tok, seq := userToken(t, h.a, c, "097", "login inquiry")
	fin := accounts(t, h.a, tok, seq)["097"][0]
	h.a.Get(t, tok, "/v2.0/account/balance/fin_num", vals("bank_tran_id", h.a.BankTranID(), "fintech_use_num", fin, "tran_dtime", hubtest.TranDtime()))
	h.a.Get(t, "wrong-token", "/v2.0/user/me", vals("user_seq_no", seq))

	var sawBalance bool
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if e["msg"] == "request" && e["route"] == "GET /v2.0/account/balance/fin_num" {
			sawBalance = true
			if e["client_id"] != h.a.ClientID || e["rsp_code"] != "A0000" || len(e["request_id"].(string)) == 0 {
				t.Errorf("balance log line lacks caller, code or request id: %s", line)
			}
		}
	}
	if !sawBalance {
		t.Fatalf("no access log line for the balance call:\n%s", log.String())
	}
	for _, secret := range []string{tok, "wrong-token", fin, c.Password, h.a.ClientSecret} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}
