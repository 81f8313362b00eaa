package obx_test

import (
	"testing"
	"time"

	"github.com/obxhub/obx"
)

func TestMaintenanceWindows(t *testing.T) {
	ws, err := obx.ParseMaintenance("23:30-00:30, 04:00-04:10")
	if err != nil || len(ws) != 2 {
		t.Fatalf("ParseMaintenance: %v %v", ws, err)
	}
	kst := time.FixedZone("KST", 9*3600)
	for _, tc := range []struct {
		at   string
		want bool
	}{{"23:29", false}, {"23:30", true}, {"23:59", true}, {"00:00", true}, {"00:29", true}, {"00:30", false},
		{"03:59", false}, {"04:00", true}, {"04:09", true}, {"04:10", false}, {"12:00", false}} {
		at, _ := time.ParseInLocation("15:04", tc.at, kst)
		at = time.Date(2026, 11, 23, at.Hour(), at.Minute(), 0, 0, kst).UTC() // checked in UTC: KST is applied inside
		if got := obx.InMaintenance(ws, at); got != tc.want {
			t.Errorf("%s KST: in maintenance %v, want %v", tc.at, got, tc.want)
		}
	}
	for _, bad := range []string{"23:30", "25:00-01:00", "1:00-02:00", "10:00-10:00", "a-b"} {
		if _, err := obx.ParseMaintenance(bad); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("ParseMaintenance(%q) = %v", bad, err)
		}
	}
	for _, b := range []obx.BankConfig{{Code: "12", Name: "x"}, {Code: "123", Name: ""}, {Code: "123", Name: "x", URL: "ftp://x"},
		{Code: "123", Name: "x", Env: "prod"}} {
		if err := b.Validate(); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("Validate(%+v) = %v", b, err)
		}
	}
	if err := (&obx.BankConfig{Code: "123", Name: "Bank", URL: "https://bank.example/obx", Env: obx.EnvLive}).Validate(); err != nil {
		t.Error(err)
	}
}
