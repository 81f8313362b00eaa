package kftc

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obxhub/obx"
)

func TestDecodeTolerance(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        Fields
	}{
		{"json strings", "application/json; charset=UTF-8", `{"tran_amt":"1000","x":"y"}`, Fields{"tran_amt": "1000", "x": "y"}},
		{"json numbers", "application/json", `{"tran_amt":1000,"req_cnt":1}`, Fields{"tran_amt": "1000", "req_cnt": "1"}},
		{"no content type", "", `{"user_seq_no":"1100000001"}`, Fields{"user_seq_no": "1100000001"}},
		{"json under form type", "application/x-www-form-urlencoded", ` {"scope":"sa"}`, Fields{"scope": "sa"}},
		{"form body", "application/x-www-form-urlencoded", `client_use_code=T991000001&user_seq_no=1100000001`, Fields{"client_use_code": "T991000001", "user_seq_no": "1100000001"}},
		{"nulls are absent", "application/json", `{"sub_frnc_name":null,"a":"b"}`, Fields{"a": "b"}},
		{"booleans", "application/json", `{"flag":true}`, Fields{"flag": "true"}},
		{"list", "application/json", `{"req_list":[{"tran_no":1,"x":null}]}`, Fields{"req_list": []Fields{{"tran_no": "1"}}}},
		{"nested object ignored", "application/json", `{"o":{"a":1},"b":"c"}`, Fields{"b": "c"}},
		{"empty", "application/json", ``, Fields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v2.0/x", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			got, err := Decode(httptest.NewRecorder(), r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, body string }{
		{"malformed", `{"a":`},
		{"trailing data", `{"a":"b"} {"c":"d"}`},
		{"list of scalars", `{"req_list":[1,2]}`},
		{"nested list", `{"req_list":[{"x":[{"y":1}]}]}`},
		{"oversized", `{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v2.0/x", strings.NewReader(tt.body))
			_, err := Decode(httptest.NewRecorder(), r)
			if obx.ErrorCode(err) != obx.EINVALID {
				t.Errorf("Decode = %v, want EINVALID", err)
			}
			if code, _ := Code(err); code != CodeFormat {
				t.Errorf("Code = %s, want %s", code, CodeFormat)
			}
		})
	}
}

func TestDecodeQuery(t *testing.T) {
	r := httptest.NewRequest("GET", "/v2.0/account/list?user_seq_no=1100000001&sort_order=D", nil)
	got, err := Decode(httptest.NewRecorder(), r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("user_seq_no") != "1100000001" || got.Get("sort_order") != "D" {
		t.Errorf("Decode(query) = %v", got)
	}
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `a=b&c=d`, `{"req_list":[{"x":"y"}]}`, `{`, `%zz`, `{"a":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := DecodeBody(body)
		if err != nil {
			if obx.ErrorCode(err) != obx.EINVALID {
				t.Fatalf("DecodeBody error code %q, want invalid", obx.ErrorCode(err))
			}
			return
		}
		v := NewValidator(fields)
		v.Text("bank_tran_id", 20, true)
		v.Digits("tran_dtime", 14, true)
		v.BankTranID("T991000001")
		for _, item := range fields.List("req_list") {
			_ = item.Get("tran_amt")
		}
	})
}

func TestValidator(t *testing.T) {
	f := Fields{"bank_tran_id": "T991000001U123456789", "tran_dtime": "20261123101010", "sort_order": "X", "name": "가나다라마"}
	v := NewValidator(f)
	if got := v.BankTranID("T991000001"); got != "T991000001U123456789" || v.Err() != nil {
		t.Errorf("BankTranID = %q, %v", got, v.Err())
	}
	if v.Digits("tran_dtime", 14, true); v.Err() != nil {
		t.Errorf("Digits: %v", v.Err())
	}
	if v.Text("name", 5, true); v.Err() != nil {
		t.Errorf("Text counts runes: %v", v.Err())
	}
	v.OneOf("sort_order", "D", "A", "D")
	if v.Err() == nil || !strings.Contains(v.Err().Error(), "sort_order") {
		t.Errorf("OneOf(bad) = %v", v.Err())
	}

	for _, id := range []string{"T991000002U123456789", "T991000001X123456789", "T991000001U12345678", "T991000001U12345678-"} {
		v := NewValidator(Fields{"bank_tran_id": id})
		v.BankTranID("T991000001")
		if v.Err() == nil {
			t.Errorf("BankTranID(%q) accepted", id)
		}
	}
}

func TestCodeTable(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{obx.Errorf(obx.EINVALID, "x"), CodeFormat},
		{&obx.Error{Code: obx.EFORBIDDEN, Err: obx.ErrConsentMissing}, CodeNoInquiryConsent},
		{&obx.Error{Code: obx.EFORBIDDEN, Err: obx.ErrWithdrawConsentExpired}, CodeWithdrawConsentExp},
		{&obx.Error{Code: obx.ENOTFOUND, Err: obx.ErrUnknownFintechNum}, CodeFintechNumMismatch},
		{&obx.Error{Code: obx.EFORBIDDEN, Err: obx.ErrScope}, CodeScope},
		{fmt.Errorf("wrapped: %w", &obx.BankError{BankCode: "088", RspCode: "412", Message: "해당계좌 없음"}), CodeBankError},
		{obx.Errorf(obx.ETIMEOUT, "slow"), CodeBankTimeout},
		{errors.New("db exploded"), CodeInternal},
	}
	for _, tt := range tests {
		if got, _ := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if _, detail := Code(errors.New("secret internal detail")); detail != "" {
		t.Errorf("internal detail leaked: %q", detail)
	}
	for code := range Messages {
		if len(code) != 5 {
			t.Errorf("code %q is not 5 characters", code)
		}
	}
}

func TestFormats(t *testing.T) {
	at := time.Date(2026, 11, 23, 15, 4, 5, 678_000_000, time.UTC)
	if got := FormatDtm(at); got != "20261124000405678" {
		t.Errorf("FormatDtm = %s", got)
	}
	if got := FormatDtime(at); got != "20261124000405" {
		t.Errorf("FormatDtime = %s", got)
	}
	if got := FormatDtime(time.Time{}); got != "" {
		t.Errorf("FormatDtime(zero) = %q", got)
	}
	if id := NewAPITranID(); len(id) != 36 || id[14] != '4' {
		t.Errorf("NewAPITranID = %s", id)
	}
}
