package http

import (
	"net/http"
	"strconv"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// accountItem is one registered account in user/me and account/list (§5.1,
// §5.5). PayerNum appears only in user/me, AccountState only in account/list,
// AccountNum only for self-authenticating (sa) callers.
type accountItem struct {
	FintechUseNum      string `json:"fintech_use_num"`
	AccountAlias       string `json:"account_alias"`
	BankCodeStd        string `json:"bank_code_std"`
	BankCodeSub        string `json:"bank_code_sub"`
	BankName           string `json:"bank_name"`
	SavingsBankName    string `json:"savings_bank_name"`
	AccountNum         string `json:"account_num,omitempty"`
	AccountNumMasked   string `json:"account_num_masked"`
	AccountSeq         string `json:"account_seq"`
	AccountHolderName  string `json:"account_holder_name"`
	AccountHolderType  string `json:"account_holder_type"`
	AccountType        string `json:"account_type"`
	InquiryAgreeYN     string `json:"inquiry_agree_yn"`
	InquiryAgreeDtime  string `json:"inquiry_agree_dtime"`
	TransferAgreeYN    string `json:"transfer_agree_yn"`
	TransferAgreeDtime string `json:"transfer_agree_dtime"`
	PayerNum           string `json:"payer_num,omitempty"`
	AccountState       string `json:"account_state,omitempty"`
}

func (s *Server) newAccountItem(a *obx.Account, p *obx.Principal) accountItem {
	now := s.Now()
	it := accountItem{
		FintechUseNum:     a.FintechUseNum,
		AccountAlias:      a.Alias,
		BankCodeStd:       a.BankCode,
		BankCodeSub:       a.BranchCode,
		BankName:          s.bankName(a.BankCode),
		AccountNumMasked:  a.NumberMasked(),
		AccountSeq:        a.Seq,
		AccountHolderName: a.HolderName,
		AccountHolderType: a.HolderType,
		AccountType:       a.Type,
	}
	if p.HasScope(obx.ScopeSA) {
		it.AccountNum = a.Number
	}
	it.InquiryAgreeYN, it.InquiryAgreeDtime = consentFields(a.InquiryAgreedAt, a.InquiryExpiresAt, now)
	it.TransferAgreeYN, it.TransferAgreeDtime = consentFields(a.TransferAgreedAt, a.TransferExpiresAt, now)
	return it
}

// emptyList is rendered as [] rather than null.
type emptyList []struct{}

// userMeResponse is the body of GET /v2.0/user/me (§5.1).
type userMeResponse struct {
	kftc.Envelope
	UserSeqNo           string        `json:"user_seq_no"`
	UserCI              string        `json:"user_ci"`
	UserName            string        `json:"user_name"`
	UserInfo            string        `json:"user_info"`
	UserGender          string        `json:"user_gender"`
	UserCellNo          string        `json:"user_cell_no"`
	UserEmail           string        `json:"user_email"`
	ResCnt              string        `json:"res_cnt"`
	ResList             []accountItem `json:"res_list"`
	InquiryCardCnt      string        `json:"inquiry_card_cnt"`
	InquiryCardList     emptyList     `json:"inquiry_card_list"`
	InquiryPayCnt       string        `json:"inquiry_pay_cnt"`
	InquiryPayList      emptyList     `json:"inquiry_pay_list"`
	InquiryInsuranceCnt string        `json:"inquiry_insurance_cnt"`
	InquiryInsList      emptyList     `json:"inquiry_insurance_list"`
	InquiryLoanCnt      string        `json:"inquiry_loan_cnt"`
	InquiryLoanList     emptyList     `json:"inquiry_loan_list"`
}

// handleUserMe handles "GET /v2.0/user/me": the user and their registered accounts.
func (s *Server) handleUserMe(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	seq := v.Digits("user_seq_no", 10, true)
	if err := v.Err(); err != nil {
		return err
	}
	u, accts, err := s.Service.UserMe(r.Context(), p, seq)
	if err != nil {
		return err
	}
	resp := userMeResponse{
		Envelope:  kftc.NewEnvelope(s.Now()),
		UserSeqNo: u.SeqNo, UserCI: u.CI, UserName: u.Name, UserInfo: u.BirthDate,
		UserGender: u.Gender, UserCellNo: u.CellNo, UserEmail: u.Email,
		ResList:        []accountItem{},
		InquiryCardCnt: "0", InquiryCardList: emptyList{},
		InquiryPayCnt: "0", InquiryPayList: emptyList{},
		InquiryInsuranceCnt: "0", InquiryInsList: emptyList{},
		InquiryLoanCnt: "0", InquiryLoanList: emptyList{},
	}
	for _, a := range accts {
		it := s.newAccountItem(a, p)
		it.PayerNum = payerNum(a)
		resp.ResList = append(resp.ResList, it)
	}
	resp.ResCnt = strconv.Itoa(len(resp.ResList))
	return s.ok(w, resp)
}

// payerNum is the account's 20-digit payer number (납부자번호), derived from
// its fintech use number so that it is stable and unique per TSP and account.
func payerNum(a *obx.Account) string { return a.FintechUseNum[4:] }

// accountListResponse is the body of GET /v2.0/account/list (§5.5).
type accountListResponse struct {
	kftc.Envelope
	UserName string        `json:"user_name"`
	ResCnt   string        `json:"res_cnt"`
	ResList  []accountItem `json:"res_list"`
}

// handleAccountList handles "GET /v2.0/account/list".
func (s *Server) handleAccountList(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	seq := v.Digits("user_seq_no", 10, true)
	// KFTC's own sample app sends only user_seq_no, so both default (§5.5).
	includeCancel := v.OneOf("include_cancel_yn", "N", "Y", "N")
	order := v.OneOf("sort_order", "D", "D", "A")
	if err := v.Err(); err != nil {
		return err
	}
	u, accts, err := s.Service.AccountList(r.Context(), p, seq, includeCancel == "Y")
	if err != nil {
		return err
	}
	resp := accountListResponse{Envelope: kftc.NewEnvelope(s.Now()), UserName: u.Name, ResList: []accountItem{}}
	for _, a := range accts {
		it := s.newAccountItem(a, p)
		it.AccountState = a.State
		resp.ResList = append(resp.ResList, it)
	}
	if order == "D" { // newest registration first
		for i, j := 0, len(resp.ResList)-1; i < j; i, j = i+1, j-1 {
			resp.ResList[i], resp.ResList[j] = resp.ResList[j], resp.ResList[i]
		}
	}
	resp.ResCnt = strconv.Itoa(len(resp.ResList))
	return s.ok(w, resp)
}

// userSeqResponse is the body of user/unlink: the envelope and the user.
type userSeqResponse struct {
	kftc.Envelope
	UserSeqNo string `json:"user_seq_no"`
}

// handleUserUnlink handles "POST /v2.0/user/unlink": the user withdraws the
// login consent; the TSP's tokens for the user die at once.
func (s *Server) handleUserUnlink(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	code := v.Text("client_use_code", 10, true)
	seq := v.Digits("user_seq_no", 10, true)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.Service.SetLinkState(r.Context(), p, code, seq, obx.LinkUnlinked); err != nil {
		return err
	}
	return s.ok(w, userSeqResponse{Envelope: kftc.NewEnvelope(s.Now()), UserSeqNo: seq})
}

// handleUserClose handles "POST /v2.0/user/close": the user leaves the TSP's
// service; accounts are cancelled and tokens revoked at once.
func (s *Server) handleUserClose(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	code := v.Text("client_use_code", 10, true)
	seq := v.Digits("user_seq_no", 10, true)
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.Service.SetLinkState(r.Context(), p, code, seq, obx.LinkClosed); err != nil {
		return err
	}
	return s.ok(w, kftc.NewEnvelope(s.Now()))
}

// handleAccountUpdateInfo handles "POST /v2.0/account/update_info": rename an account.
func (s *Server) handleAccountUpdateInfo(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	num := v.Digits("fintech_use_num", 24, true)
	alias := v.Text("account_alias", 50, true)
	if err := v.Err(); err != nil {
		return err
	}
	if _, err := s.Service.UpdateAlias(r.Context(), p, num, alias); err != nil {
		return err
	}
	return s.ok(w, kftc.NewEnvelope(s.Now()))
}

// bankResponse is an envelope with the bank fields (account/cancel, §5.7).
type bankResponse struct {
	kftc.Envelope
	kftc.BankFields
}

// handleAccountCancel handles "POST /v2.0/account/cancel": withdraw the inquiry
// or transfer consent of one account.
func (s *Server) handleAccountCancel(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	scope := v.OneOf("scope", "", obx.ScopeInquiry, obx.ScopeTransfer)
	num := v.Digits("fintech_use_num", 24, true)
	if err := v.Err(); err != nil {
		return err
	}
	a, err := s.Service.CancelAccount(r.Context(), p, num, scope)
	if err != nil {
		return err
	}
	return s.ok(w, bankResponse{Envelope: kftc.NewEnvelope(s.Now()), BankFields: *s.bankFieldsOK(tranID, a.BankCode, "")})
}
