package http

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// driveTimeout bounds how long a transfer API waits for the banks before it
// answers "in progress" (A0001) and leaves the rest to recovery.
const driveTimeout = 10 * time.Second

// tranDtime checks tran_dtime as a transfer needs it: a real time, no more
// than a day old and not in the future (an hour's clock skew allowed). It
// returns its KST date, which keys the bank_tran_id's uniqueness.
func (s *Server) tranDtime(v *kftc.Validator) string {
	d := v.Digits("tran_dtime", 14, true)
	if v.Err() != nil {
		return ""
	}
	t, err := time.ParseInLocation(kftc.LayoutDtime, d, kftc.KST)
	now := s.Now()
	if err != nil || t.After(now.Add(time.Hour)) || t.Before(now.Add(-24*time.Hour)) {
		v.Fail("tran_dtime must be the request's time (KST)")
		return ""
	}
	return d[:8]
}

// amount reads a KFTC N(12) amount that must be positive.
func amount(v *kftc.Validator, f kftc.Fields, name string) int64 {
	s := v.Text(name, 12, true)
	if v.Err() != nil {
		return 0
	}
	n, err := obx.ParseAmount(s, 12)
	if err != nil || n <= 0 {
		v.Fail("%s must be a positive whole number of won, at most 12 digits", name)
		return 0
	}
	return n
}

// subFrnc reads the sub-business fields, accepting the sample app's typo.
func subFrnc(v *kftc.Validator, f kftc.Fields) obx.SubBusinessRef {
	ref := obx.SubBusinessRef{
		Name:        v.Text("sub_frnc_name", 40, false),
		Num:         v.Text("sub_frnc_num", 20, false),
		BusinessNum: v.Text("sub_frnc_business_num", 10, false),
	}
	if ref.BusinessNum == "" {
		ref.BusinessNum = v.Text("sub_frnc_bussiness_num", 10, false)
	}
	return ref
}

// transferOutcome returns the rsp_code and bank fields that report t: success,
// the bank refusal that failed it, or in progress.
func (s *Server) transferOutcome(t *obx.Transfer) (string, string, kftc.BankFields) {
	bf := kftc.BankFields{BankTranID: t.BankTranID, BankTranDate: t.TranDay, BankCodeTran: t.Debit.BankCode}
	switch {
	case t.State == obx.TransferCompleted:
		bf.BankRspCode = obx.BankRspOK
		if t.Debit.BankTranDay != "" {
			bf.BankTranDate = t.Debit.BankTranDay
		}
		return kftc.CodeOK, "", bf
	case t.State == obx.TransferFailed:
		if t.Reversed || t.Debit.RspCode == obx.BankRspOK {
			bf.BankCodeTran = t.Credit.BankCode
		}
		bf.BankRspCode, bf.BankRspMessage = t.RspCode, t.RspMessage
		return kftc.CodeBankError, kftc.Message(kftc.CodeBankError, t.RspMessage), bf
	}
	return kftc.CodeProcessing, kftc.Message(kftc.CodeProcessing, "이체결과조회 요망"), bf
}

// withdrawResponse is the body of withdraw/fin_num (§5.12).
type withdrawResponse struct {
	kftc.Envelope
	DpsBankCodeStd       string `json:"dps_bank_code_std"`
	DpsBankCodeSub       string `json:"dps_bank_code_sub"`
	DpsBankName          string `json:"dps_bank_name"`
	DpsAccountNumMasked  string `json:"dps_account_num_masked"`
	DpsPrintContent      string `json:"dps_print_content"`
	DpsAccountHolderName string `json:"dps_account_holder_name"`
	kftc.BankFields
	FintechUseNum     string `json:"fintech_use_num"`
	AccountAlias      string `json:"account_alias"`
	BankCodeStd       string `json:"bank_code_std"`
	BankCodeSub       string `json:"bank_code_sub"`
	BankName          string `json:"bank_name"`
	SavingsBankName   string `json:"savings_bank_name"`
	AccountNumMasked  string `json:"account_num_masked"`
	PrintContent      string `json:"print_content"`
	AccountHolderName string `json:"account_holder_name"`
	TranAmt           string `json:"tran_amt"`
	WdLimitRemainAmt  string `json:"wd_limit_remain_amt"`
}

// handleWithdraw handles "POST /v2.0/transfer/withdraw/fin_num": collect money
// from a consenting customer's account into the TSP's collection account.
func (s *Server) handleWithdraw(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	return s.withdraw(w, r, f, p, false)
}

// withdrawalPayer is a withdrawal's hint: its payer and contract account,
// read with the token (obx.PayerHint).
func withdrawalPayer(f kftc.Fields) *obx.PayerHint {
	fin, cntr := f.Get("fintech_use_num"), f.Get("cntr_account_num")
	if fin == "" || cntr == "" {
		return nil
	}
	return &obx.PayerHint{FintechUseNum: fin, CntrAccountNum: cntr}
}

// handleWithdrawAcnt handles "POST /v2.0/transfer/withdraw/acnt_num" (sa only):
// the same, naming the customer's account by bank, number and user (§5.13).
func (s *Server) handleWithdrawAcnt(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	return s.withdraw(w, r, f, p, true)
}

func (s *Server) withdraw(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal, byNumber bool) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	v.OneOf("cntr_account_type", "N", "N", "C")
	cntr := v.Text("cntr_account_num", 16, true)
	dpsPrint := v.Text("dps_print_content", 20, true)
	var fin, wdBank, wdAcct, seq string
	if byNumber {
		wdBank = v.Digits("wd_bank_code_std", 3, true)
		wdAcct = v.Text("wd_account_num", 16, true)
		seq = v.Digits("user_seq_no", 10, true)
	} else {
		fin = v.Digits("fintech_use_num", 24, true)
	}
	wdPrint := v.Text("wd_print_content", 20, false)
	amt := amount(v, f, "tran_amt")
	day := s.tranDtime(v)
	reqName := v.Text("req_client_name", 20, true)
	reqBank := v.Text("req_client_bank_code", 3, false)
	reqAcct := v.Text("req_client_account_num", 16, false)
	reqFin := v.Text("req_client_fintech_use_num", 24, false)
	reqNum := v.Text("req_client_num", 20, true)
	purpose := v.OneOf("transfer_purpose", "", "TR", "ST", "RC")
	sub := subFrnc(v, f)
	recvName := v.Text("recv_client_name", 20, false)
	recvBank := v.Text("recv_client_bank_code", 3, false)
	recvAcct := v.Text("recv_client_account_num", 16, false)
	if err := v.Err(); err != nil {
		return err
	}
	if (reqFin == "") == (reqBank == "" || reqAcct == "") {
		return obx.Errorf(obx.EINVALID, "요청고객 계좌는 req_client_fintech_use_num 또는 req_client_bank_code와 req_client_account_num 중 하나로만 입력해야 합니다.")
	}
	if recvName == "" || recvBank == "" || recvAcct == "" {
		return obx.Errorf(obx.EINVALID, "최종수취고객정보가 입력되지 않았습니다.")
	}
	if wdPrint == "" {
		wdPrint = dpsPrint
	}
	hash := obx.RequestHash("withdraw", cntr, dpsPrint, fin, wdBank, wdAcct, seq, wdPrint, strconv.FormatInt(amt, 10), reqName, reqBank, reqAcct,
		reqFin, reqNum, purpose, sub.Name, sub.Num, sub.BusinessNum, recvName, recvBank, recvAcct)
	ctx, cancel := context.WithTimeout(r.Context(), driveTimeout)
	defer cancel()
	wd, err := s.Transfers.Withdraw(ctx, p, obx.WithdrawRequest{
		BankTranID: tranID, TranDay: day, FintechUseNum: fin, WdBankCode: wdBank, WdAccountNum: wdAcct, UserSeqNo: seq,
		CntrAccountNum: cntr, Amount: amt,
		DpsPrint: dpsPrint, WdPrint: wdPrint, Sub: sub, Hash: hash,
	})
	if err != nil {
		return err
	}
	t := wd.Transfer
	code, msg, bf := s.transferOutcome(t)
	resp := withdrawResponse{
		Envelope:             kftc.NewEnvelope(s.Now()),
		DpsBankCodeStd:       t.Credit.BankCode,
		DpsBankName:          s.bankName(t.Credit.BankCode),
		DpsAccountNumMasked:  obx.MaskAccountNum(t.Credit.AccountNum),
		DpsPrintContent:      t.Credit.PrintContent,
		DpsAccountHolderName: t.Credit.HolderName,
		BankFields:           bf,
		FintechUseNum:        t.Debit.FintechUseNum,
		BankCodeStd:          t.Debit.BankCode,
		BankName:             s.bankName(t.Debit.BankCode),
		AccountNumMasked:     obx.MaskAccountNum(t.Debit.AccountNum),
		PrintContent:         t.Debit.PrintContent,
		AccountHolderName:    t.Debit.HolderName,
		TranAmt:              strconv.FormatInt(t.Amount, 10),
	}
	resp.RspCode, resp.RspMessage = code, msg
	resp.AccountAlias, resp.BankCodeSub = wd.Account.Alias, wd.Account.BranchCode
	resp.WdLimitRemainAmt = strconv.FormatInt(max(wd.LimitLeft, 0), 10)
	return s.reply(w, code, resp)
}

// depositItem is one res_list entry of deposit/fin_num (§5.14).
type depositItem struct {
	TranNo string `json:"tran_no"`
	kftc.BankFields
	FintechUseNum     string `json:"fintech_use_num,omitempty"` // fin_num only
	AccountAlias      string `json:"account_alias,omitempty"`   // fin_num only
	AccountNum        string `json:"account_num,omitempty"`     // acnt_num only
	BankCodeStd       string `json:"bank_code_std"`
	BankCodeSub       string `json:"bank_code_sub"`
	BankName          string `json:"bank_name"`
	SavingsBankName   string `json:"savings_bank_name"`
	AccountNumMasked  string `json:"account_num_masked"`
	PrintContent      string `json:"print_content"`
	AccountHolderName string `json:"account_holder_name"`
	TranAmt           string `json:"tran_amt"`
	CmsNum            string `json:"cms_num"`
}

type depositResponse struct {
	kftc.Envelope
	WdBankCodeStd       string        `json:"wd_bank_code_std"`
	WdBankCodeSub       string        `json:"wd_bank_code_sub"`
	WdBankName          string        `json:"wd_bank_name"`
	WdAccountNumMasked  string        `json:"wd_account_num_masked"`
	WdPrintContent      string        `json:"wd_print_content"`
	WdAccountHolderName string        `json:"wd_account_holder_name"`
	ResCnt              string        `json:"res_cnt"`
	ResList             []depositItem `json:"res_list"`
}

// requestLevel reports whether err concerns the whole deposit request (its
// contract account, pass phrase, scope) rather than one recipient.
func requestLevel(err error) bool {
	var be *obx.BankError
	if errors.As(err, &be) {
		return false
	}
	for _, e := range []error{obx.ErrPassPhrase, obx.ErrUnregisteredContract, obx.ErrNoContract, obx.ErrScope, obx.ErrSubBusiness} {
		if errors.Is(err, e) {
			return true
		}
	}
	return obx.ErrorCode(err) == obx.EINTERNAL
}

// handleDeposit handles "POST /v2.0/transfer/deposit/fin_num": pay out from the
// TSP's contract account to each recipient in req_list. Each item is its own
// transfer with its own bank_tran_id; any failed item makes the answer A0009.
func (s *Server) handleDeposit(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	return s.deposit(w, r, f, p, false)
}

// handleDepositAcnt handles "POST /v2.0/transfer/deposit/acnt_num": the same,
// naming each recipient by bank, account number and holder name (§5.15).
func (s *Server) handleDepositAcnt(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	return s.deposit(w, r, f, p, true)
}

func (s *Server) deposit(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal, byNumber bool) error {
	v := kftc.NewValidator(f)
	v.OneOf("cntr_account_type", "N", "N", "C")
	cntr := v.Text("cntr_account_num", 16, true)
	pass := v.Text("wd_pass_phrase", 128, true)
	wdPrint := v.Text("wd_print_content", 20, true)
	nameCheck := v.OneOf("name_check_option", "on", "on", "off") == "on"
	sub := subFrnc(v, f)
	day := s.tranDtime(v)
	items := f.List("req_list")
	if err := v.Err(); err != nil {
		return err
	}
	if n, err := strconv.Atoi(f.Get("req_cnt")); err != nil || n != len(items) || n < 1 || n > 25 {
		return obx.Errorf(obx.EINVALID, "req_cnt must equal the number of req_list items, 1 to 25")
	}
	type item struct {
		no, tranID, fin, print string
		bank, acct, holder     string
		amt                    int64
		hash                   string
	}
	var reqs []item
	seen := map[string]bool{}
	for _, it := range items {
		iv := kftc.NewValidator(it)
		x := item{no: iv.Text("tran_no", 5, true), tranID: iv.BankTranID(p.ClientUseCode)}
		if byNumber {
			x.bank, x.acct = iv.Digits("bank_code_std", 3, true), iv.Text("account_num", 16, true)
			x.holder = iv.Text("account_holder_name", 20, true)
		} else {
			x.fin = iv.Digits("fintech_use_num", 24, true)
		}
		x.print = iv.Text("print_content", 20, true)
		x.amt = amount(iv, it, "tran_amt")
		reqName := iv.Text("req_client_name", 20, true)
		reqNum := iv.Text("req_client_num", 20, true)
		purpose := iv.OneOf("transfer_purpose", "", "TR", "ST", "AU")
		if err := iv.Err(); err != nil {
			return err
		}
		if seen[x.tranID] {
			return obx.Errorf(obx.EINVALID, "req_list repeats bank_tran_id %s", x.tranID)
		}
		seen[x.tranID] = true
		x.hash = obx.RequestHash("deposit", cntr, wdPrint, strconv.FormatBool(nameCheck), sub.Name, sub.Num, sub.BusinessNum,
			x.fin, x.bank, x.acct, x.holder, x.print, strconv.FormatInt(x.amt, 10), reqName, reqNum, purpose)
		reqs = append(reqs, x)
	}

	ctx, cancel := context.WithTimeout(r.Context(), driveTimeout)
	defer cancel()
	resp := depositResponse{Envelope: kftc.NewEnvelope(s.Now()), ResCnt: strconv.Itoa(len(reqs))}
	failed := false
	var first *obx.Transfer
	for _, x := range reqs {
		t, err := s.Transfers.Deposit(ctx, p, obx.DepositRequest{
			BankTranID: x.tranID, TranDay: day, CntrAccountNum: cntr, PassPhrase: pass, FintechUseNum: x.fin,
			BankCode: x.bank, AccountNum: x.acct, HolderName: x.holder, NameCheck: nameCheck,
			Amount: x.amt, WdPrint: wdPrint, DpsPrint: x.print, Sub: sub, Hash: x.hash,
		})
		it := depositItem{TranNo: x.no, FintechUseNum: x.fin, AccountNum: x.acct, TranAmt: strconv.FormatInt(x.amt, 10), PrintContent: x.print}
		if err != nil {
			if requestLevel(err) && first == nil {
				return err
			}
			failed = true
			code, detail := kftc.Code(err)
			it.BankFields = kftc.BankFields{BankTranID: x.tranID, BankTranDate: obx.KSTDay(s.Now()), BankRspMessage: "[" + code + "] " + kftc.Message(code, detail)}
			var be *obx.BankError
			if errors.As(err, &be) {
				it.BankCodeTran, it.BankRspCode, it.BankRspMessage = be.BankCode, be.RspCode, be.Message
			}
			resp.ResList = append(resp.ResList, it)
			continue
		}
		if first == nil {
			first = t
		}
		code, _, bf := s.transferOutcome(t)
		if code != kftc.CodeOK {
			failed = true
		}
		bf.BankCodeTran = t.Credit.BankCode
		if t.State == obx.TransferFailed && !t.Reversed && t.Debit.RspCode != obx.BankRspOK {
			bf.BankCodeTran = t.Debit.BankCode
		}
		it.BankFields = bf
		it.BankCodeStd, it.BankName = t.Credit.BankCode, s.bankName(t.Credit.BankCode)
		it.AccountNumMasked, it.AccountHolderName = obx.MaskAccountNum(t.Credit.AccountNum), t.Credit.HolderName
		if byNumber {
			it.AccountNum = t.Credit.AccountNum
		} else if a, err := s.Service.Accounts.Account(r.Context(), p.TSPID, x.fin); err == nil {
			it.AccountAlias, it.BankCodeSub = a.Alias, a.BranchCode
		}
		resp.ResList = append(resp.ResList, it)
	}
	if first != nil {
		resp.WdBankCodeStd, resp.WdBankName = first.Debit.BankCode, s.bankName(first.Debit.BankCode)
		resp.WdAccountNumMasked, resp.WdPrintContent = obx.MaskAccountNum(first.Debit.AccountNum), first.Debit.PrintContent
		resp.WdAccountHolderName = first.Debit.HolderName
	}
	code := kftc.CodeOK
	if failed {
		code = kftc.CodeItemsFailed
		resp.RspCode, resp.RspMessage = code, kftc.Message(code, "리스트 건별 처리결과 확인")
	}
	return s.reply(w, code, resp)
}

// resultItem is one res_list entry of transfer/result (§5.16).
type resultItem struct {
	TranNo string `json:"tran_no"`
	kftc.BankFields
	WdBankCodeStd        string `json:"wd_bank_code_std"`
	WdBankCodeSub        string `json:"wd_bank_code_sub"`
	WdBankName           string `json:"wd_bank_name"`
	WdSavingsBankName    string `json:"wd_savings_bank_name"`
	WdFintechUseNum      string `json:"wd_fintech_use_num"`
	WdAccountNumMasked   string `json:"wd_account_num_masked"`
	WdPrintContent       string `json:"wd_print_content"`
	WdAccountHolderName  string `json:"wd_account_holder_name"`
	DpsBankCodeStd       string `json:"dps_bank_code_std"`
	DpsBankCodeSub       string `json:"dps_bank_code_sub"`
	DpsBankName          string `json:"dps_bank_name"`
	DpsSavingsBankName   string `json:"dps_savings_bank_name"`
	DpsFintechUseNum     string `json:"dps_fintech_use_num"`
	DpsAccountNumMasked  string `json:"dps_account_num_masked"`
	DpsPrintContent      string `json:"dps_print_content"`
	DpsAccountHolderName string `json:"dps_account_holder_name"`
	TranAmt              string `json:"tran_amt"`
}

type resultResponse struct {
	kftc.Envelope
	ResCnt  string       `json:"res_cnt"`
	ResList []resultItem `json:"res_list"`
}

// handleTransferResult handles "POST /v2.0/transfer/result": the outcome of
// up to 25 earlier transfers. An item in progress carries an empty
// bank_rsp_code; an unknown item, the message of A0310; either makes the
// answer A0009.
func (s *Server) handleTransferResult(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	checkType := v.OneOf("check_type", "", "1", "2")
	v.Digits("tran_dtime", 14, true)
	items := f.List("req_list")
	if err := v.Err(); err != nil {
		return err
	}
	if n, err := strconv.Atoi(f.Get("req_cnt")); err != nil || n != len(items) || n < 1 || n > 25 {
		return obx.Errorf(obx.EINVALID, "req_cnt must equal the number of req_list items, 1 to 25")
	}
	kind := obx.TransferWithdraw
	if checkType == "2" {
		kind = obx.TransferDeposit
	}
	resp := resultResponse{Envelope: kftc.NewEnvelope(s.Now()), ResCnt: strconv.Itoa(len(items))}
	incomplete := false
	for _, it := range items {
		iv := kftc.NewValidator(it)
		no := iv.Text("tran_no", 5, true)
		id := iv.Text("org_bank_tran_id", 20, true)
		day := iv.Digits("org_bank_tran_date", 8, true)
		amt := amount(iv, it, "org_tran_amt")
		if err := iv.Err(); err != nil {
			return err
		}
		item := resultItem{TranNo: no, TranAmt: strconv.FormatInt(amt, 10)}
		t, err := s.Transfers.Result(r.Context(), p, id, day)
		if err == nil && (t.Kind != kind || t.Amount != amt) {
			err = &obx.Error{Code: obx.ENOTFOUND, Message: "No such transfer.", Err: obx.ErrTransferNotFound}
		}
		if err != nil {
			if obx.ErrorCode(err) != obx.ENOTFOUND {
				return err
			}
			incomplete = true
			item.BankFields = kftc.BankFields{BankTranID: id, BankTranDate: day, BankRspMessage: kftc.Message(kftc.CodeNoTransfer, "")}
			resp.ResList = append(resp.ResList, item)
			continue
		}
		code, _, bf := s.transferOutcome(t)
		if code == kftc.CodeProcessing {
			incomplete = true
			bf.BankRspMessage = kftc.Message(kftc.CodeProcessing, "")
		}
		item.BankFields = bf
		item.WdBankCodeStd, item.WdBankName = t.Debit.BankCode, s.bankName(t.Debit.BankCode)
		item.WdFintechUseNum, item.WdAccountNumMasked = t.Debit.FintechUseNum, obx.MaskAccountNum(t.Debit.AccountNum)
		item.WdPrintContent, item.WdAccountHolderName = t.Debit.PrintContent, t.Debit.HolderName
		item.DpsBankCodeStd, item.DpsBankName = t.Credit.BankCode, s.bankName(t.Credit.BankCode)
		item.DpsFintechUseNum, item.DpsAccountNumMasked = t.Credit.FintechUseNum, obx.MaskAccountNum(t.Credit.AccountNum)
		item.DpsPrintContent, item.DpsAccountHolderName = t.Credit.PrintContent, t.Credit.HolderName
		resp.ResList = append(resp.ResList, item)
	}
	code := kftc.CodeOK
	if incomplete {
		code = kftc.CodeItemsFailed
		resp.RspCode, resp.RspMessage = code, kftc.Message(code, "리스트 건별 처리결과 확인")
	}
	return s.reply(w, code, resp)
}

type remainResponse struct {
	kftc.Envelope
	DayWdLimitAmt    string `json:"day_wd_limit_amt"`
	DayWdAmt         string `json:"day_wd_amt"`
	WdLimitRemainAmt string `json:"wd_limit_remain_amt"`
}

// handleUserRemainAmt handles "GET /v2.0/transfer/user_remain_amt": what is
// left of today's withdrawal limit for the token's customer (or, for an sa
// token, the user named by user_seq_no).
func (s *Server) handleUserRemainAmt(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	seq := v.Digits("user_seq_no", 10, false)
	if err := v.Err(); err != nil {
		return err
	}
	limit, used, err := s.Transfers.DayLimit(r.Context(), p, seq)
	if err != nil {
		return err
	}
	return s.ok(w, remainResponse{
		Envelope:         kftc.NewEnvelope(s.Now()),
		DayWdLimitAmt:    strconv.FormatInt(limit, 10),
		DayWdAmt:         strconv.FormatInt(used, 10),
		WdLimitRemainAmt: strconv.FormatInt(max(limit-used, 0), 10),
	})
}
