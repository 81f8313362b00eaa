package kftc

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// KST is Korea Standard Time, the zone of every time on the KFTC wire (§1.8).
var KST = time.FixedZone("KST", 9*60*60)

// Wire time layouts (§1.8).
const (
	LayoutDtm   = "20060102150405000" // api_tran_dtm, N(17), milliseconds
	LayoutDtime = "20060102150405"    // tran_dtime and *_agree_dtime, N(14)
	LayoutDate  = "20060102"          // N(8)
	LayoutTime  = "150405"            // N(6)
)

// FormatDtm renders t as api_tran_dtm (yyyyMMddHHmmssSSS in KST).
func FormatDtm(t time.Time) string {
	s := t.In(KST).Format("20060102150405.000")
	return s[:14] + s[15:]
}

// FormatDtime renders t as yyyyMMddHHmmss in KST, or "" for the zero time.
func FormatDtime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(KST).Format(LayoutDtime)
}

// FormatDate renders t as yyyyMMdd in KST.
func FormatDate(t time.Time) string { return t.In(KST).Format(LayoutDate) }

// Envelope is the four fields every API response starts with (§4).
type Envelope struct {
	APITranID  string `json:"api_tran_id"`
	APITranDtm string `json:"api_tran_dtm"`
	RspCode    string `json:"rsp_code"`
	RspMessage string `json:"rsp_message"`
}

// NewEnvelope returns a success envelope with a fresh api_tran_id.
func NewEnvelope(now time.Time) Envelope {
	return Envelope{APITranID: NewAPITranID(), APITranDtm: FormatDtm(now), RspCode: CodeOK, RspMessage: ""}
}

// NewAPITranID returns a random UUID (version 4), the form real api_tran_ids take.
func NewAPITranID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// BankFields are the five fields that APIs reaching a bank add (§4).
type BankFields struct {
	BankTranID     string `json:"bank_tran_id"`
	BankTranDate   string `json:"bank_tran_date"`
	BankCodeTran   string `json:"bank_code_tran"`
	BankRspCode    string `json:"bank_rsp_code"`
	BankRspMessage string `json:"bank_rsp_message"`
}

// GatewayError is the body of an authentication or routing error: only the
// code and message, no envelope ids (§4, PROBE).
type GatewayError struct {
	RspCode    string `json:"rsp_code"`
	RspMessage string `json:"rsp_message"`
}
