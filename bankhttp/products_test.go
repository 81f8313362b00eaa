package bankhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/bankhttp"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/fisc"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/productindex"
)

// countingSim counts the bank's full catalog answers, to show that
// conditional pulls of an unchanged catalog transfer nothing.
type countingHandler struct {
	h    http.Handler
	mu   sync.Mutex
	full map[string]int // path → 200 answers
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	c.mu.Lock()
	if rec.Code == http.StatusOK {
		c.full[r.URL.Path]++
	}
	c.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func newProducts(t *testing.T, e dbtest.Engine) (*obx.Products, *productindex.Index) {
	t.Helper()
	db := dbtest.Open(t, e)
	ix := productindex.New()
	return &obx.Products{Store: db, Index: ix}, ix
}

func TestPullCatalogOverHTTP(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		sim, err := banksim.Open(ctx, banksim.Config{Code: "097", Seed: 1, DSN: filepath.Join(t.TempDir(), "b.db"),
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		h := bankhttp.NewServer(sim, sim, nil)
		h.Token = token
		counter := &countingHandler{h: h, full: map[string]int{}}
		srv := httptest.NewServer(counter)
		t.Cleanup(srv.Close)
		client := newClient(t, srv.URL, token, 10*time.Second)
		products, ix := newProducts(t, e)

		for range 3 {
			if err := products.Pull(ctx, "097", client); err != nil {
				t.Fatal(err)
			}
		}
		b, ok := ix.Bank("097")
		if !ok || b.Catalog.Version != 1 || len(b.Catalog.ATMs) != 300 || b.Rates == nil {
			t.Fatalf("index after pulls: %+v", b)
		}
		if n := counter.full["/bank/v1/products/catalog"]; n != 1 {
			t.Errorf("catalog transferred %d times over three pulls, want 1 (then 304)", n)
		}
		now = now.Add(banksim.RateInterval)
		if err := products.Pull(ctx, "097", client); err != nil {
			t.Fatal(err)
		}
		if b, _ := ix.Bank("097"); !b.Rates.QuotedAt.Equal(now) {
			t.Errorf("rates quoted at %v after requote, want %v", b.Rates.QuotedAt, now)
		}
		if n := counter.full["/bank/v1/products/rates"]; n != 2 {
			t.Errorf("rates transferred %d times, want 2", n)
		}
	})
}

// push PUTs a document to the hub's receiver with the bank token.
func push(t *testing.T, url, tok string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func catalogDoc(t *testing.T, c *obx.Catalog, edit func(*fisc.Catalog)) []byte {
	t.Helper()
	w := fisc.FromCatalog(c)
	if edit != nil {
		edit(&w)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPushCatalog(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		products, ix := newProducts(t, e)
		mux := http.NewServeMux()
		(&bankhttp.PushReceiver{Products: products, Tokens: map[string]string{"088": "bank-088-secret", "004": "bank-004-secret"}}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		url := srv.URL + "/hub/v1/banks/088/products/catalog"
		good := banksim.DemoCatalog("088", "", 1, banksim.CatalogOptions{Branches: 30, ATMs: 50})

		if st, _ := push(t, url, "", catalogDoc(t, good, nil)); st != http.StatusUnauthorized {
			t.Errorf("push without token: %d", st)
		}
		if st, _ := push(t, url, "bank-004-secret", catalogDoc(t, good, nil)); st != http.StatusUnauthorized {
			t.Errorf("push with another bank's token: %d", st)
		}
		if st, _ := push(t, srv.URL+"/hub/v1/banks/004/products/catalog", "bank-004-secret", catalogDoc(t, good, nil)); st != http.StatusForbidden {
			t.Errorf("bank 004 pushing 088's catalog: %d", st)
		}

		st, body := push(t, url, "bank-088-secret", catalogDoc(t, good, nil))
		if st != http.StatusOK || body["stored"] != true || body["version"] != 1.0 {
			t.Fatalf("good push: %d %v", st, body)
		}
		if st, body := push(t, url, "bank-088-secret", catalogDoc(t, good, nil)); st != http.StatusOK || body["stored"] != false {
			t.Errorf("same content again: %d %v", st, body)
		}

		// Partly bad: most records are fine, three are not. The whole update is
		// refused with a report naming each bad record, and version 1 stays.
		bad := catalogDoc(t, good, func(w *fisc.Catalog) {
			w.Deposits[0].InterestRates[0].Rate = "3,5"
			w.Branches[7].BranchLocation.Coordinate.Latitude = 95
			w.ATMs[3].ATMServiceTime = fisc.ServiceTime{}
			w.Funds[0].FundName = "changed: would be version 2"
		})
		st, body = push(t, url, "bank-088-secret", bad)
		if st != http.StatusUnprocessableEntity || body["code"] != "invalid" {
			t.Fatalf("bad push: %d %v", st, body)
		}
		problems, _ := body["problems"].([]any)
		records := map[string]bool{}
		for _, p := range problems {
			records[p.(map[string]any)["record"].(string)] = true
		}
		for _, want := range []string{"deposits[0] (KD01)", "branches[7] (0880008)", "atms[3] (088A00004)"} {
			if !records[want] {
				t.Errorf("report %v lacks %s", records, want)
			}
		}
		if b, _ := ix.Bank("088"); b.Catalog.Version != 1 || b.Catalog.Funds[0].Name == "changed: would be version 2" {
			t.Errorf("a rejected push changed the catalog in service")
		}

		// A truncated document is malformed JSON: 400, nothing changes.
		doc := catalogDoc(t, good, nil)
		if st, body := push(t, url, "bank-088-secret", doc[:len(doc)/2]); st != http.StatusBadRequest || body["code"] != "invalid" {
			t.Errorf("truncated push: %d %v", st, body)
		}
		if st, _ := push(t, url, "bank-088-secret", []byte(`{"bankCode":"088","branches":{"oops":1}}`)); st != http.StatusBadRequest {
			t.Errorf("mistyped push: %d", st)
		}

		// Concurrent pushes of distinct content: each is stored once with its
		// own version, and the index ends on the newest.
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := banksim.DemoCatalog("088", "", 1, banksim.CatalogOptions{Branches: 30, ATMs: 50})
				c.Funds[0].Name = fmt.Sprintf("펀드 %d", i)
				if st, body := push(t, url, "bank-088-secret", catalogDoc(t, c, nil)); st != http.StatusOK || body["stored"] != true {
					t.Errorf("concurrent push %d: %d %v", i, st, body)
				}
			}()
		}
		wg.Wait()
		vs, err := products.Store.CatalogVersions(context.Background(), "088")
		if err != nil || len(vs) != 7 {
			t.Fatalf("versions after concurrent pushes: %d, %v", len(vs), err)
		}
		if b, _ := ix.Bank("088"); b.Catalog.Version != 7 {
			t.Errorf("index serves version %d, want 7", b.Catalog.Version)
		}

		// Rates.
		board := fisc.FromRateBoard(banksim.DemoRates("088", 1, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)))
		rb, _ := json.Marshal(board)
		if st, body := push(t, srv.URL+"/hub/v1/banks/088/products/rates", "bank-088-secret", rb); st != http.StatusOK || body["stored"] != true {
			t.Errorf("rates push: %d %v", st, body)
		}
		board.ExchangeRates[0].BaseExchangeRate[0].Buy = "99999"
		board.QuoteTime = "2026-03-02T01:10:00Z"
		rb, _ = json.Marshal(board)
		if st, body := push(t, srv.URL+"/hub/v1/banks/088/products/rates", "bank-088-secret", rb); st != http.StatusUnprocessableEntity {
			t.Errorf("inverted rates push: %d %v", st, body)
		}
	})
}
