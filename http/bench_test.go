package http_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

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
