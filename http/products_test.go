package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	obxhttp "github.com/obxhub/obx/http"
	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/internal/hubtest"
	"github.com/obxhub/obx/oauth"
	"github.com/obxhub/obx/productindex"
	"github.com/obxhub/obx/sqlstore"
)

// productHub is a hub serving the product API over real HTTP, with three
// simulated banks' catalogs published through obx.Products.
type productHub struct {
	srv      *httptest.Server
	db       *sqlstore.DB
	products *obx.Products
	tsp      *hubtest.TSP
	token    string // client_credentials, scope products
	oob      string // client_credentials, scope oob only
	now      time.Time
}

// productsNow is a Wednesday, 10:30 KST.
var productsNow = time.Date(2026, 3, 4, 1, 30, 0, 0, time.UTC)

func newProductHub(t *testing.T, e dbtest.Engine) *productHub {
	t.Helper()
	ctx := context.Background()
	h := &productHub{db: dbtest.Open(t, e), now: productsNow}
	ix := productindex.New()
	h.products = &obx.Products{Store: h.db, Index: ix}
	for _, code := range []string{"004", "088", "097"} {
		c := banksim.DemoCatalog(code, "", 1, banksim.CatalogOptions{})
		if _, err := h.products.PublishCatalog(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := h.products.PublishRates(ctx, banksim.DemoRates(code, 1, productsNow)); err != nil {
			t.Fatal(err)
		}
	}
	o, err := oauth.New(oauth.Config{Participants: h.db, Accounts: h.db, Tokens: h.db, Flows: h.db,
		Banks: emptyBanks{}, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	s := &obxhttp.Server{Tokens: o, Mounts: []obxhttp.Mounter{o}, Products: ix, ProductHistory: h.db,
		Now: func() time.Time { return h.now }}
	h.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h.srv.Close)

	tsp := &obx.TSP{Name: "TSP", ClientUseCode: "T990000009", Status: obx.TSPActive}
	if err := h.db.CreateTSP(ctx, tsp); err != nil {
		t.Fatal(err)
	}
	id, secret := oauth.NewClientCredentials()
	hash, _ := oauth.HashSecret(secret)
	if err := h.db.CreateClient(ctx, &obx.Client{ID: id, TSPID: tsp.ID, Name: "app", SecretHash: hash,
		RedirectURIs: []string{redirectURI}, Scopes: []string{"oob", "products"}, Env: obx.EnvSandbox}); err != nil {
		t.Fatal(err)
	}
	h.tsp = hubtest.NewTSP(h.srv.URL, id, secret, tsp.ClientUseCode, redirectURI)
	h.token = h.tsp.InstitutionToken(t, "products")
	h.oob = h.tsp.InstitutionToken(t, "oob")
	return h
}

// emptyBanks is a bank directory with no banks: the product API needs none.
type emptyBanks struct{}

func (emptyBanks) Bank(code string) (obx.Bank, error) {
	return nil, obx.WrapError(obx.ENOTFOUND, "No such bank.", obx.ErrUnknownBank)
}
func (emptyBanks) Banks() []obx.Bank { return nil }

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// get calls path with the products token and hdr.
func (h *productHub) get(t *testing.T, path string, hdr map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.tsp.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("GET %s: %d, not JSON: %.200s", path, resp.StatusCode, raw)
		}
	}
	if a.status >= 500 {
		t.Fatalf("GET %s: %d %s", path, a.status, raw)
	}
	return a
}

// fiscHeaders are valid FISC headers for bank.
func (h *productHub) fiscHeaders(bank string) map[string]string {
	return map[string]string{"X-STAN": "1234567", "X-DestinationId": bank + "0000", "X-ClientId": h.tsp.ClientID,
		"X-TxnInitDateTime": "20260304103000"}
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

func list(m map[string]any, k string) []any { l, _ := m[k].([]any); return l }

func TestProductFISCEndpoints(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		hd := h.fiscHeaders("088")

		a := h.get(t, "/fisc/v1/branches?limit=50&offset=100", hd)
		if a.status != 200 {
			t.Fatalf("branches: %d %s", a.status, a.raw)
		}
		for k, v := range hd {
			if a.header.Get(k) != v {
				t.Errorf("header %s echoed as %q, want %q", k, a.header.Get(k), v)
			}
		}
		b := obj(a.body, "appBranch")
		if b["bankCode"] != "088" || b["totalCount"] != 120.0 || len(list(b, "branchRef")) != 20 || b["nextOffset"] != nil {
			t.Errorf("branches page: total %v, %d items, next %v", b["totalCount"], len(list(b, "branchRef")), b["nextOffset"])
		}
		first := h.get(t, "/fisc/v1/branches?limit=50", hd)
		if n := obj(first.body, "appBranch")["nextOffset"]; n != 50.0 {
			t.Errorf("nextOffset of the first page = %v", n)
		}

		a = h.get(t, "/fisc/v1/creditCard/list", hd)
		ref := obj(a.body, "appLoanList", "loanListRef")
		if len(ref) != 6 {
			t.Fatalf("creditCard/list: %s", a.raw)
		}
		var code string
		for _, v := range ref {
			code = v.(string)
		}
		a = h.get(t, "/fisc/v1/creditCards?productCode="+code, hd)
		if cards := list(obj(a.body, "appCreditCard"), "creditCardRef"); len(cards) != 1 || cards[0].(map[string]any)["productCode"] != code {
			t.Errorf("creditCards?productCode=%s: %s", code, a.raw)
		}
		if a := h.get(t, "/fisc/v1/creditCards?productCode=NOPE", hd); a.status != 404 || a.body["code"] != "not_found" || a.body["stan"] != "1234567" {
			t.Errorf("unknown productCode: %d %s", a.status, a.raw)
		}
		for _, tc := range []struct{ path, root, ref string }{
			{"/fisc/v1/currency/list", "appCurrencyList", "currencyListRef"},
			{"/fisc/v1/fxTimeDeposit/list", "appDepositList", "depositListRef"},
			{"/fisc/v1/fund/list", "appWealthProductList", "wealthProductList"},
		} {
			if m := obj(h.get(t, tc.path, hd).body, tc.root, tc.ref); len(m) == 0 {
				t.Errorf("%s: empty", tc.path)
			}
		}
		for _, tc := range []struct {
			path, root, ref string
			min             int
		}{
			{"/fisc/v1/atms", "appAtm", "atmRef", 100}, {"/fisc/v1/exchangeRates", "appExchangeRate", "exchangeRateRef", 10},
			{"/fisc/v1/safeDepositBoxes", "appSafeDepositBox", "safeBoxRef", 3}, {"/fisc/v1/securedLoans", "appSecuredLoan", "securedLoanRef", 4},
			{"/fisc/v1/noSecuredLoans", "appNoSecuredLoan", "noSecuredLoanRef", 3}, {"/fisc/v1/funds", "appFund", "fundRef", 8},
			{"/fisc/v1/krwTimeDeposits", "appKrwTimeDeposit", "krwTimeDepositRef", 3}, {"/fisc/v1/fxDemandDeposits", "appFxDemandDeposit", "fxDemandDepositRef", 4},
			{"/fisc/v1/krwDemandDeposits", "appKrwDemandDeposit", "krwDemandDepositRef", 3}, {"/fisc/v1/fxTimeDeposits", "appFxTimeDeposit", "fxTimeDepositRef", 4},
		} {
			a := h.get(t, tc.path+"?limit=100", hd)
			if n := len(list(obj(a.body, tc.root), tc.ref)); n < tc.min {
				t.Errorf("%s: %d items, want ≥ %d: %.200s", tc.path, n, tc.min, a.raw)
			}
		}
	})
}

func TestProductFISCHeaderErrors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		for _, tc := range []struct {
			name   string
			header string
			value  string
			status int
			code   string
		}{
			{"STAN short", "X-STAN", "123456", 400, "invalid_header"},
			{"STAN letters", "X-STAN", "12345a7", 400, "invalid_header"},
			{"no STAN", "X-STAN", "", 400, "invalid_header"},
			{"destination branch-level", "X-DestinationId", "0880011", 400, "invalid_header"},
			{"destination not digits", "X-DestinationId", "088000x", 400, "invalid_header"},
			{"unknown bank", "X-DestinationId", "9990000", 404, "unknown_bank"},
			{"another client", "X-ClientId", "someone-else", 403, "forbidden"},
			{"no client", "X-ClientId", "", 400, "invalid_header"},
			{"time short", "X-TxnInitDateTime", "2026030410300", 400, "invalid_header"},
			{"time impossible", "X-TxnInitDateTime", "20261304103000", 400, "invalid_header"},
		} {
			hd := h.fiscHeaders("088")
			hd[tc.header] = tc.value
			a := h.get(t, "/fisc/v1/atms", hd)
			if a.status != tc.status || a.body["code"] != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.raw, tc.status, tc.code)
			}
		}
		if a := h.get(t, "/fisc/v1/nonsense", h.fiscHeaders("088")); a.status != 404 || a.body["code"] != "not_found" {
			t.Errorf("unknown collection: %d %s", a.status, a.raw)
		}
		if a := h.get(t, "/fisc/v1/atms?limit=0", h.fiscHeaders("088")); a.status != 400 || a.body["code"] != "invalid_parameter" {
			t.Errorf("limit=0: %d %s", a.status, a.raw)
		}
		// Tokens: none, another scope, garbage.
		for _, tc := range []struct {
			token  string
			status int
		}{{"", 401}, {h.oob, 403}, {"not-a-token", 401}} {
			hd := h.fiscHeaders("088")
			hd["Authorization"] = "Bearer " + tc.token
			if tc.token == "" {
				hd["Authorization"] = ""
			}
			if a := h.get(t, "/fisc/v1/atms", hd); a.status != tc.status {
				t.Errorf("token %.10q: %d %s", tc.token, a.status, a.raw)
			}
		}
	})
}

func TestProductCompareEndpoint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		a := h.get(t, "/products/v1/compare/deposits?kind=time&currency=USD&term_months=12&amount=1000000&limit=2", nil)
		if a.status != 200 || a.body["total"] != 3.0 || len(list(a.body, "results")) != 2 || a.body["nextOffset"] != 2.0 {
			t.Fatalf("compare USD 12M: %d %s", a.status, a.raw)
		}
		rs := list(a.body, "results")
		r0, r1 := rs[0].(map[string]any), rs[1].(map[string]any)
		rate := func(m map[string]any) obx.Decimal {
			d, _ := obx.ParseDecimal(obj(m, "applicableRate")["rate"].(string))
			return d
		}
		if rate(r0) < rate(r1) || obj(r0, "applicableRate")["termMonths"] != 12.0 || obj(r0, "deposit")["currency"] != "USD" {
			t.Errorf("results: %v / %v", r0, r1)
		}
		a = h.get(t, "/products/v1/compare/credit-cards?max_annual_fee=15000&sort=annualFee&bank=088,004", nil)
		for _, r := range list(a.body, "results") {
			m := r.(map[string]any)
			if fee := obj(m, "loan")["annualFee"].(float64); fee > 15000 || m["bankCode"] == "097" {
				t.Errorf("card %v", m)
			}
		}
		for _, tc := range []struct {
			q      string
			status int
			code   string
		}{
			{"/products/v1/compare/deposits?currency=usd", 400, "invalid_parameter"},
			{"/products/v1/compare/deposits?currency=XYZ", 400, "invalid_parameter"},
			{"/products/v1/compare/deposits?term_months=-1", 400, "invalid_parameter"},
			{"/products/v1/compare/deposits?sort=annualFee", 400, "invalid_parameter"},
			{"/products/v1/compare/deposits?eligibility=alien", 400, "invalid_parameter"},
			{"/products/v1/compare/deposits?bank=999", 404, "unknown_bank"},
			{"/products/v1/compare/pensions", 404, "not_found"},
			{"/products/v1/compare/funds?max_risk_level=9", 400, "invalid_parameter"},
		} {
			if a := h.get(t, tc.q, nil); a.status != tc.status || a.body["code"] != tc.code {
				t.Errorf("%s: %d %s", tc.q, a.status, a.raw)
			}
		}
	})
}

func TestProductNearbyEndpoint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		// Near Seoul City Hall, open now (Wednesday 10:30 KST), with fx.
		a := h.get(t, "/products/v1/nearby?kind=branch&lat=37.5663&lon=126.9779&radius_m=5000&open_now=true&service=fx&limit=5", nil)
		if a.status != 200 {
			t.Fatalf("nearby: %d %s", a.status, a.raw)
		}
		rs := list(a.body, "results")
		if len(rs) == 0 || a.body["openAt"] != "2026-03-04T01:30:00Z" {
			t.Fatalf("nearby: %s", a.raw)
		}
		last := 0.0
		for _, r := range rs {
			m := r.(map[string]any)
			d := m["distanceM"].(float64)
			services, _ := obj(m, "branch", "branchBasicInfo")["services"].([]any)
			if d < last || d > 5000 || !strings.Contains(strings.Trim(strings.Join(toStrings(services), ","), ""), "fx") {
				t.Errorf("result %v at %v m", obj(m, "branch")["branchCode"], d)
			}
			last = d
		}
		// Late at night (Thursday 01:00 KST) no branch is open.
		a = h.get(t, "/products/v1/nearby?kind=branch&lat=37.5663&lon=126.9779&radius_m=20000&open_at=2026-03-05T01:00:00%2B09:00", nil)
		if len(list(a.body, "results")) != 0 {
			t.Errorf("branches open at 01:00: %d", len(list(a.body, "results")))
		}
		a = h.get(t, "/products/v1/nearby?kind=atm&lat=35.1151&lon=129.0422&radius_m=3000&limit=3&offset=3&bank=088", nil)
		if a.status != 200 || a.body["nextOffset"] != 6.0 {
			t.Errorf("ATM page 2: %d %s", a.status, a.raw)
		}
		for _, q := range []string{
			"kind=atm&lat=95&lon=127", "kind=atm&lat=37.5&lon=190", "kind=atm&lat=NaN&lon=127", "kind=atm&lat=37.5",
			"kind=atm&lat=37.5&lon=127&radius_m=1000000", "kind=atm&lat=37.5&lon=127&radius_m=0", "kind=bank&lat=37.5&lon=127",
			"kind=atm&lat=37.5&lon=127&open_at=yesterday", "kind=atm&lat=37.5&lon=127&service=F%20X", "kind=atm&lat=1e400&lon=127",
			"kind=atm&lat=37.5&lon=127&open_now=maybe", "kind=atm&lat=37.5&lon=127&limit=101",
		} {
			if a := h.get(t, "/products/v1/nearby?"+q, nil); a.status != 400 || a.body["code"] != "invalid_parameter" {
				t.Errorf("%s: %d %s", q, a.status, a.raw)
			}
		}
	})
}

func toStrings(l []any) []string {
	var out []string
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func TestProductBestRatesAndHistory(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		a := h.get(t, "/products/v1/exchange-rates/best?currency=JPY,USD&side=sell&type=cash", nil)
		cs := list(a.body, "currencies")
		if a.status != 200 || len(cs) != 2 {
			t.Fatalf("best: %d %s", a.status, a.raw)
		}
		jpy := cs[0].(map[string]any)
		quotes := list(jpy, "quotes")
		if jpy["currency"] != "JPY" || len(quotes) != 3 || obj(jpy, "best")["bankCode"] != quotes[0].(map[string]any)["bankCode"] {
			t.Errorf("JPY: %v", jpy)
		}
		for i := 1; i < len(quotes); i++ {
			p, _ := obx.ParseDecimal(quotes[i-1].(map[string]any)["rate"].(string))
			c, _ := obx.ParseDecimal(quotes[i].(map[string]any)["rate"].(string))
			if c < p || quotes[i].(map[string]any)["quoteTime"] != "2026-03-04T01:30:00Z" {
				t.Errorf("JPY quotes out of order at %d", i)
			}
		}
		for _, q := range []string{"currency=KRW&side=sell", "currency=JPX&side=sell", "currency=jpy&side=sell", "side=cheap", "currency=USD&side=buy&type=card"} {
			if a := h.get(t, "/products/v1/exchange-rates/best?"+q, nil); a.status != 400 {
				t.Errorf("%s: %d", q, a.status)
			}
		}

		// History: a second board and a new catalog version.
		ctx := context.Background()
		later := productsNow.Add(2 * time.Hour)
		if _, err := h.products.PublishRates(ctx, banksim.DemoRates("088", 1, later)); err != nil {
			t.Fatal(err)
		}
		a = h.get(t, "/products/v1/banks/088/exchange-rates?at=2026-03-04T02:00:00Z", nil)
		if a.body["quoteTime"] != "2026-03-04T01:30:00Z" {
			t.Errorf("rates at 02:00: %s", a.raw)
		}
		if a := h.get(t, "/products/v1/banks/088/exchange-rates", nil); a.body["quoteTime"] != "2026-03-04T03:30:00Z" {
			t.Errorf("latest rates: %.200s", a.raw)
		}
		if a := h.get(t, "/products/v1/banks/088/exchange-rates?at=2020-01-01", nil); a.status != 404 || a.body["code"] != "not_found" {
			t.Errorf("rates before any: %d %s", a.status, a.raw)
		}
		if a := h.get(t, "/products/v1/banks/088/exchange-rates?at=soon", nil); a.status != 400 {
			t.Errorf("bad at: %d", a.status)
		}
		if a := h.get(t, "/products/v1/banks/555/deposits", nil); a.status != 404 || a.body["code"] != "unknown_bank" {
			t.Errorf("unknown bank history: %d %s", a.status, a.raw)
		}
		v1 := h.get(t, "/products/v1/banks/088/deposits", nil)
		if v1.body["version"] != 1.0 {
			t.Fatalf("deposits: %s", v1.raw)
		}
	})
}

func TestProductConditionalRequests(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, e dbtest.Engine) {
		h := newProductHub(t, e)
		for _, path := range []string{"/products/v1/compare/funds?max_risk_level=3", "/fisc/v1/branches"} {
			hd := h.fiscHeaders("097")
			a := h.get(t, path, hd)
			etag, lm := a.header.Get("ETag"), a.header.Get("Last-Modified")
			if a.status != 200 || etag == "" || lm == "" {
				t.Fatalf("%s: %d etag %q last-modified %q", path, a.status, etag, lm)
			}
			hd["If-None-Match"] = etag
			if b := h.get(t, path, hd); b.status != http.StatusNotModified || len(b.raw) != 0 || b.header.Get("ETag") != etag {
				t.Errorf("%s If-None-Match: %d", path, b.status)
			}
			hd["If-None-Match"] = `"other", W/` + etag
			if b := h.get(t, path, hd); b.status != http.StatusNotModified {
				t.Errorf("%s If-None-Match list with weak tag: %d", path, b.status)
			}
			hd["If-None-Match"] = `"stale"`
			if b := h.get(t, path, hd); b.status != 200 {
				t.Errorf("%s stale If-None-Match: %d", path, b.status)
			}
			delete(hd, "If-None-Match")
			hd["If-Modified-Since"] = lm
			if b := h.get(t, path, hd); b.status != http.StatusNotModified {
				t.Errorf("%s If-Modified-Since: %d", path, b.status)
			}
		}
		// A new version changes the ETag of what it touches.
		a := h.get(t, "/products/v1/compare/funds", nil)
		c := banksim.DemoCatalog("097", "", 1, banksim.CatalogOptions{})
		c.Funds[0].ManagementFee++
		if _, err := h.products.PublishCatalog(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		b := h.get(t, "/products/v1/compare/funds", map[string]string{"If-None-Match": a.header.Get("ETag")})
		if b.status != 200 || b.header.Get("ETag") == a.header.Get("ETag") {
			t.Errorf("after a new version: %d, etag %s", b.status, b.header.Get("ETag"))
		}
	})
}
