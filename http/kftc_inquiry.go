package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// bankFieldsFor returns the bank fields of a request that reached bank code.
func (s *Server) bankFieldsFor(tranID, code string) *kftc.BankFields {
	return &kftc.BankFields{BankTranID: tranID, BankTranDate: kftc.FormatDate(s.Now()), BankCodeTran: code}
}

// bankFieldsOK returns the bank fields of a call bank code answered, dated
// with the bank's business day when it gave one.
func (s *Server) bankFieldsOK(tranID, code, bankDay string) *kftc.BankFields {
	bf := s.bankFieldsFor(tranID, code)
	if bankDay != "" {
		bf.BankTranDate = bankDay
	}
	bf.BankRspCode = obx.BankRspOK
	return bf
}

// bankCallError renders err of a request that reached, or tried to reach, the
// bank of account a; a is nil when the hub refused before choosing a bank.
func (s *Server) bankCallError(w http.ResponseWriter, r *http.Request, err error, tranID string, a *obx.Account) error {
	var bf *kftc.BankFields
	if a != nil {
		bf = s.bankFieldsFor(tranID, a.BankCode)
	}
	s.kftcError(w, r, err, bf)
	return nil
}

// balanceResponse is the body of GET /v2.0/account/balance/fin_num (§5.8).
type balanceResponse struct {
	kftc.Envelope
	kftc.BankFields
	BankName         string `json:"bank_name"`
	SavingsBankName  string `json:"savings_bank_name"`
	FintechUseNum    string `json:"fintech_use_num"`
	BalanceAmt       string `json:"balance_amt"`
	AvailableAmt     string `json:"available_amt"`
	AccountType      string `json:"account_type"`
	ProductName      string `json:"product_name"`
	AccountIssueDate string `json:"account_issue_date"`
	MaturityDate     string `json:"maturity_date"`
	LastTranDate     string `json:"last_tran_date"`
}

// handleBalance handles "GET /v2.0/account/balance/fin_num".
func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	num := v.Digits("fintech_use_num", 24, true)
	v.Digits("tran_dtime", 14, true)
	if err := v.Err(); err != nil {
		return err
	}
	a, bal, err := s.Service.Balance(r.Context(), p, num)
	if err != nil {
		return s.bankCallError(w, r, err, tranID, a)
	}
	bf := s.bankFieldsOK(tranID, a.BankCode, bal.BankTranDay)
	return s.ok(w, balanceResponse{
		Envelope:         kftc.NewEnvelope(s.Now()),
		BankFields:       *bf,
		BankName:         s.bankName(a.BankCode),
		FintechUseNum:    a.FintechUseNum,
		BalanceAmt:       strconv.FormatInt(bal.Balance, 10),
		AvailableAmt:     strconv.FormatInt(max(bal.Available, 0), 10),
		AccountType:      bal.Account.Type,
		ProductName:      bal.Account.ProductName,
		AccountIssueDate: bal.Account.OpenedOn,
		MaturityDate:     bal.Account.MaturesOn,
		LastTranDate:     bal.LastTranOn,
	})
}

// transactionItem is one entry of res_list in transaction_list (§5.10).
type transactionItem struct {
	TranDate        string `json:"tran_date"`
	TranTime        string `json:"tran_time"`
	InoutType       string `json:"inout_type"`
	TranType        string `json:"tran_type"`
	PrintContent    string `json:"print_content"`
	TranAmt         string `json:"tran_amt"`
	AfterBalanceAmt string `json:"after_balance_amt"`
	BranchName      string `json:"branch_name"`
}

// transactionListResponse is the body of transaction_list (§5.10), exactly the
// field set strict clients declare.
type transactionListResponse struct {
	kftc.Envelope
	kftc.BankFields
	BankName              string            `json:"bank_name"`
	SavingsBankName       string            `json:"savings_bank_name"`
	FintechUseNum         string            `json:"fintech_use_num"`
	BalanceAmt            string            `json:"balance_amt"`
	PageRecordCnt         string            `json:"page_record_cnt"`
	NextPageYN            string            `json:"next_page_yn"`
	BeforInquiryTraceInfo string            `json:"befor_inquiry_trace_info"`
	ResList               []transactionItem `json:"res_list"`
}

// pageSize is KFTC's maximum records per transaction_list page.
const pageSize = 25

// handleTransactionList handles "GET /v2.0/account/transaction_list/fin_num".
// Pages are at most 25 records; befor_inquiry_trace_info carries the bank's
// keyset cursor from one page to the next. An empty period answers A0000 with
// an empty list.
func (s *Server) handleTransactionList(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	num := v.Digits("fintech_use_num", 24, true)
	direction := v.OneOf("inquiry_type", "", obx.DirectionAll, obx.DirectionIn, obx.DirectionOut)
	base := v.OneOf("inquiry_base", "D", "D", "T")
	fromDate := v.Digits("from_date", 8, true)
	toDate := v.Digits("to_date", 8, true)
	// Many clients omit the times even with inquiry_base T (§5.10), so they
	// default to the whole day.
	fromTime := v.Digits("from_time", 6, false)
	toTime := v.Digits("to_time", 6, false)
	order := v.OneOf("sort_order", "", "D", "A")
	v.Digits("tran_dtime", 14, true)
	cursor := v.Text("befor_inquiry_trace_info", 20, false)
	if err := v.Err(); err != nil {
		return err
	}
	if base == "D" || fromTime == "" {
		fromTime = "000000"
	}
	if base == "D" || toTime == "" {
		toTime = "235959"
	}
	from, err1 := time.ParseInLocation(kftc.LayoutDtime, fromDate+fromTime, kftc.KST)
	to, err2 := time.ParseInLocation(kftc.LayoutDtime, toDate+toTime, kftc.KST)
	if err1 != nil || err2 != nil {
		return obx.Errorf(obx.EINVALID, "from_date/from_time and to_date/to_time must be valid dates and times")
	}
	q := obx.TransactionQuery{
		From: from.UTC(), To: to.Add(time.Second - time.Nanosecond).UTC(),
		Direction: direction, Ascending: order == "A", Cursor: cursor, Limit: pageSize,
	}
	a, page, err := s.Service.Transactions(r.Context(), p, num, q)
	if err != nil {
		return s.bankCallError(w, r, err, tranID, a)
	}
	bf := s.bankFieldsOK(tranID, a.BankCode, "")
	resp := transactionListResponse{
		Envelope:              kftc.NewEnvelope(s.Now()),
		BankFields:            *bf,
		BankName:              s.bankName(a.BankCode),
		FintechUseNum:         a.FintechUseNum,
		BalanceAmt:            strconv.FormatInt(page.Balance, 10),
		PageRecordCnt:         strconv.Itoa(len(page.Items)),
		NextPageYN:            yn(page.NextCursor != ""),
		BeforInquiryTraceInfo: page.NextCursor,
		ResList:               make([]transactionItem, 0, len(page.Items)),
	}
	for _, t := range page.Items {
		inout := "출금"
		if t.In {
			inout = "입금"
		}
		at := t.At.In(kftc.KST)
		resp.ResList = append(resp.ResList, transactionItem{
			TranDate:        at.Format(kftc.LayoutDate),
			TranTime:        at.Format(kftc.LayoutTime),
			InoutType:       inout,
			TranType:        t.Type,
			PrintContent:    t.PrintContent,
			TranAmt:         strconv.FormatInt(t.Amount, 10),
			AfterBalanceAmt: strconv.FormatInt(t.AfterBalance, 10),
			BranchName:      t.BranchName,
		})
	}
	return s.ok(w, resp)
}

// bankStatusItem is one bank in bank/status (§5.20). bank_status is "Y" when
// the bank serves, "M" in a maintenance window (until maintenance_end_dtime),
// "N" when down; clients that know only Y/N read anything but Y as unavailable.
type bankStatusItem struct {
	BankCodeStd         string `json:"bank_code_std"`
	BankName            string `json:"bank_name"`
	BankStatus          string `json:"bank_status"`
	MaintenanceEndDtime string `json:"maintenance_end_dtime"`
}

type bankStatusResponse struct {
	kftc.Envelope
	ResCnt  string           `json:"res_cnt"`
	ResList []bankStatusItem `json:"res_list"`
}

// handleBankStatus handles "GET /v2.0/bank/status": every bank's live state.
func (s *Server) handleBankStatus(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	states, err := s.Service.BankStates(r.Context(), p)
	if err != nil {
		return err
	}
	resp := bankStatusResponse{Envelope: kftc.NewEnvelope(s.Now()), ResCnt: strconv.Itoa(len(states))}
	for _, st := range states {
		it := bankStatusItem{BankCodeStd: st.Code, BankName: st.Name, BankStatus: "N"}
		switch {
		case st.Status.Maintenance:
			it.BankStatus = "M"
			it.MaintenanceEndDtime = kftc.FormatDtime(st.Status.MaintenanceUntil)
		case st.Status.Up:
			it.BankStatus = "Y"
		}
		resp.ResList = append(resp.ResList, it)
	}
	return s.ok(w, resp)
}
