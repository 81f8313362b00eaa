package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obxhub/obx/internal/cputime"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
)

// BenchmarkInquiry measures the two hottest KFTC paths through the whole hub
// over loopback HTTP: bearer introspection, the consent checks, the guarded
// call to the (simulated) bank and the response. Run with
// go test -run '^$' -bench Inquiry ./http
func BenchmarkInquiry(b *testing.B) {
	for _, e := range dbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			h := newHub(b, e, hubOptions{})
			c := customer(b)
			tok, seq := userToken(b, h.a, c, "097", "login inquiry")
			me := h.a.Get(b, tok, "/v2.0/user/me", vals("user_seq_no", seq))
			fin := hubtest.Str(hubtest.List(me, "res_list")[0], "fintech_use_num")
			client := &http.Client{Timeout: 10 * time.Second}
			get := func(b *testing.B, path string, q url.Values) {
				req, _ := http.NewRequest("GET", h.srv.URL+path+"?"+q.Encode(), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.Run("balance", func(b *testing.B) {
				q := vals("bank_tran_id", "T990000001U000000001", "fintech_use_num", fin, "tran_dtime", hubtest.TranDtime())
				for b.Loop() {
					get(b, "/v2.0/account/balance/fin_num", q)
				}
			})
			b.Run("transaction_list", func(b *testing.B) {
				q := vals("bank_tran_id", "T990000001U000000002", "fintech_use_num", fin, "inquiry_type", "A",
					"inquiry_base", "D", "from_date", time.Now().AddDate(0, -6, 0).Format("20060102"),
					"to_date", hubtest.Today(), "sort_order", "D", "tran_dtime", hubtest.TranDtime())
				for b.Loop() {
					get(b, "/v2.0/account/transaction_list/fin_num", q)
				}
			})
		})
	}
}

// BenchmarkWithdraw measures the hottest money path through the whole hub
// over loopback HTTP: POST /v2.0/transfer/withdraw/fin_num from 16 clients
// per core at once, so that the group commits and coalesced reads form
// batches as they do under load. Each withdrawal is debited at the
// customer's bank, credited to the TSP's collection account and completed,
// durably. obx bench transfers is the load run with pgbench's ratio; this is
// the figure to profile and to compare between commits:
// go test -run '^$' -bench Withdraw -benchmem ./http
func BenchmarkWithdraw(b *testing.B) {
	for _, e := range dbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			h := newHub(b, e, hubOptions{})
			c := customer(b)
			tok, seq := userToken(b, h.a, c, "088", "login inquiry transfer")
			fin := demandAccount(b, h.a, tok, accounts(b, h.a, tok, seq)["088"])
			cntr := contractAccount(0)
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			cpu0 := cputime.Self()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("%sU%09d", h.a.ClientUseCode, n.Add(1))
					body, _ := json.Marshal(withdrawBody(h.a, id, fin, cntr, "1"))
					req, _ := http.NewRequest("POST", h.srv.URL+"/v2.0/transfer/withdraw/fin_num", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json; charset=UTF-8")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					var r struct {
						RspCode string `json:"rsp_code"`
					}
					err = json.NewDecoder(resp.Body).Decode(&r)
					resp.Body.Close()
					if err != nil || r.RspCode != "A0000" {
						b.Errorf("withdrawal %s: rsp_code %q, %v", id, r.RspCode, err)
						return
					}
				}
			})
			b.ReportMetric(float64(cputime.Self()-cpu0)/float64(max(n.Load(), 1)), "cpu-ns/op")
		})
	}
}
