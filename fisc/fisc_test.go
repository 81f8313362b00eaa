package fisc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/fisc"
)

func TestCatalogRoundTrip(t *testing.T) {
	c := banksim.DemoCatalog("088", "", 1, banksim.CatalogOptions{Branches: 20, ATMs: 40})
	b, err := json.Marshal(fisc.FromCatalog(c))
	if err != nil {
		t.Fatal(err)
	}
	var w fisc.Catalog
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	got, ps := w.ToDomain()
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if diff := cmp.Diff(c, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	board := banksim.DemoRates("088", 1, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	wb := fisc.FromRateBoard(board)
	gotB, ps := wb.ToDomain()
	if len(ps) != 0 || !cmp.Equal(board, gotB) {
		t.Errorf("rate board round trip: %v\n%s", ps, cmp.Diff(board, gotB))
	}
}

func TestCatalogProblems(t *testing.T) {
	doc := `{"bankCode":"088","bankName":"x","branches":[{"branchCode":"B1","branchName":"a",
	  "branchLocation":{"coordinate":{"latitude":37.5,"longitude":127}},
	  "branchServiceTime":{"weekly":[{"day":"Funday","open":"9:00","close":"16:00"}]}}],
	  "funds":[{"fundCode":"F","fundName":"f","riskLevel":"RR9","fundFeeDetail":{"managementFee":"1.2.3"}}],
	  "deposits":[{"productCode":"D","interestRates":[{"rate":"abc","maxAmount":0}]}]}`
	var w fisc.Catalog
	if err := json.Unmarshal([]byte(doc), &w); err != nil {
		t.Fatal(err)
	}
	_, ps := w.ToDomain()
	want := []obx.Problem{
		{Record: "deposits[0] (D)", Field: "interestRates[0].rate", Message: `"abc" is not a decimal number`},
		{Record: "deposits[0] (D)", Field: "interestRates[0].maxAmount", Message: "must be positive, or null for no upper bound"},
		{Record: "branches[0] (B1)", Field: "serviceTime.weekly[0].day", Message: `"Funday" is not one of Mon … Sun`},
		{Record: "branches[0] (B1)", Field: "serviceTime.weekly[0].open", Message: `"9:00" is not a time HH:MM`},
		{Record: "funds[0] (F)", Field: "riskLevel", Message: `"RR9" is not RR1 … RR5`},
		{Record: "funds[0] (F)", Field: "fundFeeDetail.managementFee", Message: `"1.2.3" is not a decimal number`},
	}
	// The fields that could not be read come first, then what validation
	// finds in the rest (a missing currency, no hours, …).
	if len(ps) < len(want) {
		t.Fatalf("problems: %v", ps)
	}
	if diff := cmp.Diff(want, ps[:len(want)]); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
