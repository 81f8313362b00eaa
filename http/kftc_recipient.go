package http

import (
	"net/http"
	"strconv"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// realNameResponse is the body of inquiry/real_name (§5.17).
type realNameResponse struct {
	kftc.Envelope
	kftc.BankFields
	BankCodeStd           string `json:"bank_code_std"`
	BankCodeSub           string `json:"bank_code_sub"`
	BankName              string `json:"bank_name"`
	SavingsBankName       string `json:"savings_bank_name"`
	AccountNum            string `json:"account_num"`
	AccountHolderInfoType string `json:"account_holder_info_type"`
	AccountHolderInfo     string `json:"account_holder_info"`
	AccountHolderName     string `json:"account_holder_name"`
	AccountType           string `json:"account_type"`
}

// holderInfoDigits is how many characters each account_holder_info_type
// takes; 0 means "any", -1 that no info is needed.
var holderInfoDigits = map[string]int{" ": 6, "1": 13, "2": 13, "3": 13, "4": 13, "5": 0, "6": 10, "E": 0, "N": -1}

// handleRealName handles "POST /v2.0/inquiry/real_name": is the account valid,
// and whose name is on it.
func (s *Server) handleRealName(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	bank := v.Digits("bank_code_std", 3, true)
	acct := v.Text("account_num", 16, true)
	// FB's client omits the type; a lone space survives only in JSON.
	infoType := f.Get("account_holder_info_type")
	if infoType == "" {
		infoType = " "
	}
	info := v.Text("account_holder_info", 20, false)
	v.Digits("tran_dtime", 14, true)
	if err := v.Err(); err != nil {
		return err
	}
	want, ok := holderInfoDigits[infoType]
	if !ok {
		return obx.Errorf(obx.EINVALID, "account_holder_info_type must be one of ' ', 1-6, E or N")
	}
	if want > 0 && (len(info) != want || !digitsOnly(info)) || want == 0 && info == "" {
		return &obx.Error{Code: obx.EINVALID, Message: "account_holder_info does not fit account_holder_info_type", Err: obx.ErrHolderInfoFormat}
	}
	a, err := s.Transfers.RealName(r.Context(), p, bank, acct, infoType, info)
	if err != nil {
		s.kftcError(w, r, err, s.bankFieldsFor(tranID, bank))
		return nil
	}
	return s.ok(w, realNameResponse{
		Envelope: kftc.NewEnvelope(s.Now()), BankFields: *s.bankFieldsOK(tranID, bank, ""),
		BankCodeStd: bank, BankCodeSub: a.BranchCode, BankName: s.bankName(bank), AccountNum: acct,
		AccountHolderInfoType: infoType, AccountHolderInfo: info, AccountHolderName: a.HolderName, AccountType: a.Type,
	})
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// receiveResponse is the body of inquiry/receive (§5.19).
type receiveResponse struct {
	kftc.Envelope
	BankCodeStd       string `json:"bank_code_std"`
	BankCodeSub       string `json:"bank_code_sub"`
	BankName          string `json:"bank_name"`
	AccountNum        string `json:"account_num"`
	AccountNumMasked  string `json:"account_num_masked"`
	PrintContent      string `json:"print_content"`
	AccountHolderName string `json:"account_holder_name"`
	kftc.BankFields
	WdBankCodeStd string `json:"wd_bank_code_std"`
	WdBankName    string `json:"wd_bank_name"`
	WdAccountNum  string `json:"wd_account_num"`
	TranAmt       string `json:"tran_amt"`
	CmsNum        string `json:"cms_num"`
}

// handleReceive handles "POST /v2.0/inquiry/receive": check a deposit's
// recipient (by fintech use number, or bank and account number) before paying.
func (s *Server) handleReceive(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	v.OneOf("cntr_account_type", "N", "N", "C")
	cntr := v.Text("cntr_account_num", 16, true)
	fin := v.Digits("fintech_use_num", 24, false)
	bank := v.Digits("bank_code_std", 3, false)
	acct := v.Text("account_num", 16, false)
	print := v.Text("print_content", 20, true)
	amt := amount(v, f, "tran_amt")
	v.Text("req_client_name", 20, true)
	v.Text("req_client_num", 20, true)
	v.OneOf("transfer_purpose", "", "TR", "ST", "RC", "AU")
	cms := v.Text("cms_num", 16, false)
	if err := v.Err(); err != nil {
		return err
	}
	if (fin == "") == (bank == "" || acct == "") {
		return obx.Errorf(obx.EINVALID, "give either fintech_use_num, or bank_code_std and account_num")
	}
	a, c, err := s.Transfers.Recipient(r.Context(), p, cntr, fin, bank, acct)
	if err != nil {
		s.kftcError(w, r, err, s.bankFieldsFor(tranID, bank))
		return nil
	}
	resp := receiveResponse{
		Envelope: kftc.NewEnvelope(s.Now()), BankFields: *s.bankFieldsOK(tranID, a.BankCode, ""),
		BankCodeStd: a.BankCode, BankCodeSub: a.BranchCode, BankName: s.bankName(a.BankCode),
		AccountNumMasked: obx.MaskAccountNum(a.Number), PrintContent: print, AccountHolderName: a.HolderName,
		WdBankCodeStd: c.BankCode, WdBankName: s.bankName(c.BankCode), WdAccountNum: c.AccountNum,
		TranAmt: strconv.FormatInt(amt, 10), CmsNum: cms,
	}
	if fin == "" {
		resp.AccountNum = a.Number // the caller gave it; by fintech number it stays hidden
	}
	return s.ok(w, resp)
}
