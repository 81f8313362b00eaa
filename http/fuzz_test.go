package http_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
)

// kftcRoutes are every KFTC API the hub serves.
var kftcRoutes = []struct{ method, path string }{
	{"GET", "/v2.0/user/me"},
	{"POST", "/v2.0/user/unlink"},
	{"POST", "/v2.0/user/close"},
	{"GET", "/v2.0/account/list"},
	{"POST", "/v2.0/account/update_info"},
	{"POST", "/v2.0/account/cancel"},
	{"GET", "/v2.0/account/balance/fin_num"},
	{"GET", "/v2.0/account/transaction_list/fin_num"},
	{"GET", "/v2.0/bank/status"},
	{"POST", "/v2.0/transfer/withdraw/fin_num"},
	{"POST", "/v2.0/transfer/withdraw/acnt_num"},
	{"POST", "/v2.0/transfer/deposit/fin_num"},
	{"POST", "/v2.0/transfer/deposit/acnt_num"},
	{"POST", "/v2.0/transfer/result"},
	{"GET", "/v2.0/transfer/user_remain_amt"},
	{"POST", "/v2.0/inquiry/real_name"},
	{"POST", "/v2.0/inquiry/receive"},
	{"POST", "/v2.0/inquiry/remit_list"},
	{"POST", "/v2.0/return/claim"},
	{"POST", "/v2.0/return/result"},
}

// FuzzKFTCRequests sends arbitrary query strings and bodies, under a valid
// user token and a valid institution token, to every endpoint. Whatever
// arrives, the hub answers HTTP 200 with a JSON envelope carrying a
// documented rsp_code, and never an internal error (A0003), which is also
// what a recovered panic would answer.
func FuzzKFTCRequests(f *testing.F) {
	h := newHub(f, dbtest.Engines()[0], hubOptions{})
	c := customer(f)
	tok, seq := userToken(f, h.a, c, "097", "login inquiry transfer")
	sa := h.b.InstitutionToken(f, "sa")
	me := h.a.Get(f, tok, "/v2.0/user/me", vals("user_seq_no", seq))
	fin := hubtest.Str(hubtest.List(me, "res_list")[0], "fintech_use_num")
	handler := h.srv.Config.Handler

	good := vals("user_seq_no", seq, "bank_tran_id", "T990000001U000000001", "fintech_use_num", fin,
		"tran_dtime", "20261123101010", "inquiry_type", "A", "inquiry_base", "T", "from_date", "20260101",
		"to_date", "20261231", "sort_order", "A", "include_cancel_yn", "Y").Encode()
	for i := range kftcRoutes {
		f.Add(uint8(i), false, good, `{"client_use_code":"T990000001","user_seq_no":`+seq+`,"fintech_use_num":"`+fin+`","account_alias":"a","scope":"inquiry","bank_tran_id":"T990000001U000000009"}`)
		f.Add(uint8(i), true, "user_seq_no=1&befor_inquiry_trace_info=zz", `user_seq_no=`+seq+`&client_use_code=T990000002`)
	}
	f.Add(uint8(7), false, "from_date=99999999&to_date=00000000&fintech_use_num="+fin, `{"req_list":[{"a":1}]}`)
	f.Add(uint8(4), false, "", `{"fintech_use_num":null,"account_alias":12.5e300}`)
	f.Add(uint8(9), false, "", `{"bank_tran_id":"T990000001U000000123","cntr_account_type":"N","cntr_account_num":"1","dps_print_content":"x","fintech_use_num":"`+fin+`","tran_amt":"1000","tran_dtime":"20261123101010","req_client_name":"a","req_client_fintech_use_num":"`+fin+`","req_client_num":"1","transfer_purpose":"TR","recv_client_name":"b","recv_client_bank_code":"097","recv_client_account_num":"1"}`)
	f.Add(uint8(11), true, "", `{"cntr_account_num":"1","wd_pass_phrase":"NONE","wd_print_content":"x","tran_dtime":"20261123101010","req_cnt":"1","req_list":[{"tran_no":"1","bank_tran_id":"T990000002U000000001","fintech_use_num":"`+fin+`","print_content":"x","tran_amt":"99999999999999","req_client_name":"a","req_client_num":"1","transfer_purpose":"TR"}]}`)
	f.Add(uint8(13), true, "", `{"check_type":"1","tran_dtime":"20261123101010","req_cnt":"1","req_list":[{"tran_no":"1","org_bank_tran_id":"T990000002U000000001","org_bank_tran_date":"20261123","org_tran_amt":"1"}]}`)

	f.Fuzz(func(t *testing.T, route uint8, institution bool, query, body string) {
		rt := kftcRoutes[int(route)%len(kftcRoutes)]
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
		req.URL.RawQuery = query
		bearer := tok
		if institution {
			bearer = sa
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s?%q: HTTP %d", rt.method, rt.path, query, rec.Code)
		}
		var env struct {
			RspCode string `json:"rsp_code"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", rt.method, rt.path, rec.Body.String())
		}
		if len(env.RspCode) != 5 || env.RspCode == "A0003" {
			t.Fatalf("%s %s?%q body %q: rsp_code %q", rt.method, rt.path, query, body, env.RspCode)
		}
	})
}
