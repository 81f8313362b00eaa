package http

import (
	"net/http"
	"strconv"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// returnResponse is the body of return/claim and return/result. KFTC's
// published material names only the request fields, so the response is ours:
// the envelope, the bank fields of the recipient's bank, the claim and the
// claimed deposit, and return_state: "Y" returned, "N" refused, "P" pending.
type returnResponse struct {
	kftc.Envelope
	kftc.BankFields
	ClaimBankTranID   string `json:"claim_bank_tran_id"`
	ClaimBankTranDate string `json:"claim_bank_tran_date"`
	OrgBankTranID     string `json:"org_bank_tran_id"`
	OrgBankTranDate   string `json:"org_bank_tran_date"`
	ReturnAmt         string `json:"return_amt"`
	ReturnState       string `json:"return_state"`
}

func (s *Server) writeReturn(w http.ResponseWriter, t *obx.Transfer, orgID, orgDate string) error {
	code, msg, bf := s.transferOutcome(t)
	state := "P"
	switch t.State {
	case obx.TransferCompleted:
		state = "Y"
	case obx.TransferFailed:
		state = "N"
	}
	resp := returnResponse{
		Envelope: kftc.NewEnvelope(s.Now()), BankFields: bf,
		ClaimBankTranID: t.BankTranID, ClaimBankTranDate: t.TranDay,
		OrgBankTranID: orgID, OrgBankTranDate: orgDate,
		ReturnAmt: strconv.FormatInt(t.Amount, 10), ReturnState: state,
	}
	resp.RspCode, resp.RspMessage = code, msg
	return s.reply(w, code, resp)
}

// handleReturnClaim handles "POST /v2.0/return/claim": the TSP asks for a
// mistaken deposit back. See obx.Transfers.Claim for how the (simulated)
// recipient decides.
func (s *Server) handleReturnClaim(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	orgDate := v.Digits("org_bank_tran_date", 8, true)
	orgID := v.Text("org_bank_tran_id", 20, true)
	dpsBank := v.Digits("org_dps_bank_code_std", 3, true)
	dpsAcct := v.Text("org_dps_account_num", 16, false)
	dpsFin := v.Digits("org_dps_fintech_use_num", 24, false)
	orgAmt := amount(v, f, "org_tran_amt")
	v.Digits("org_wd_bank_code_std", 3, true)
	claim := v.OneOf("claim_code", "", obx.ClaimWrongAccount, obx.ClaimWrongAmount, obx.ClaimDouble, obx.ClaimOther, obx.ClaimCustomer)
	v.Text("claim_message", 100, false)
	total := v.OneOf("total_return_yn", "Y", "Y", "N")
	retAcct := v.Text("return_account_num", 16, true)
	day := ""
	if f.Has("tran_dtime") {
		day = s.tranDtime(v)
	}
	amt := orgAmt
	if total == "N" {
		amt = amount(v, f, "return_amt")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if (dpsAcct == "") == (dpsFin == "") {
		return obx.Errorf(obx.EINVALID, "give either org_dps_account_num or org_dps_fintech_use_num")
	}
	org, err := s.Transfers.Result(r.Context(), p, orgID, orgDate)
	if err != nil {
		return err
	}
	if org.Credit.BankCode != dpsBank || (dpsAcct != "" && org.Credit.AccountNum != dpsAcct) || (dpsFin != "" && org.Credit.FintechUseNum != dpsFin) {
		return &obx.Error{Code: obx.ENOTFOUND, Message: "The claimed deposit went to another account.", Err: obx.ErrTransferNotFound}
	}
	hash := obx.RequestHash("return", orgDate, orgID, dpsBank, dpsAcct, dpsFin, strconv.FormatInt(orgAmt, 10), claim, total,
		strconv.FormatInt(amt, 10), retAcct)
	t, err := s.Transfers.Claim(r.Context(), p, obx.ReturnClaim{
		BankTranID: tranID, TranDay: day, OrgBankTranID: orgID, OrgBankTranDate: orgDate, OrgAmount: orgAmt,
		Amount: amt, ClaimCode: claim, ReturnAccount: retAcct, Hash: hash,
	})
	if err != nil {
		return err
	}
	return s.writeReturn(w, t, orgID, orgDate)
}

// handleReturnResult handles "POST /v2.0/return/result": the state of a claim.
func (s *Server) handleReturnResult(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	date := v.Digits("claim_bank_tran_date", 8, true)
	id := v.Text("claim_bank_tran_id", 20, true)
	if err := v.Err(); err != nil {
		return err
	}
	t, err := s.Transfers.Result(r.Context(), p, id, date)
	if err == nil && t.Kind != obx.TransferReturn {
		err = &obx.Error{Code: obx.ENOTFOUND, Message: "No such claim.", Err: obx.ErrTransferNotFound}
	}
	if err != nil {
		return err
	}
	orgID, orgDate := "", ""
	if org, err := s.Transfers.Store.TransferByID(r.Context(), p.TSPID, string(t.Echo)); err == nil {
		orgID, orgDate = org.BankTranID, org.TranDay
	}
	return s.writeReturn(w, t, orgID, orgDate)
}
