package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/kftc"
)

// remitItem is one remittance in remit_list (§5.18). The remitter's account
// number is masked like every account number the hub shows.
type remitItem struct {
	TranDate           string `json:"tran_date"`
	TranTime           string `json:"tran_time"`
	TranType           string `json:"tran_type"`
	PrintContent       string `json:"print_content"`
	TranAmt            string `json:"tran_amt"`
	AfterBalanceAmt    string `json:"after_balance_amt"`
	BranchName         string `json:"branch_name"`
	RemitterName       string `json:"remitter_name"`
	RemitterBankCode   string `json:"remitter_bank_code"`
	RemitterAccountNum string `json:"remitter_account_num"`
}

type remitListResponse struct {
	kftc.Envelope
	kftc.BankFields
	BankCodeStd           string      `json:"bank_code_std"`
	AccountNum            string      `json:"account_num"`
	BankName              string      `json:"bank_name"`
	BalanceAmt            string      `json:"balance_amt"`
	TotalRecordCnt        string      `json:"total_record_cnt"`
	PageRecordCnt         string      `json:"page_record_cnt"`
	NextPageYN            string      `json:"next_page_yn"`
	BeforInquiryTraceInfo string      `json:"befor_inquiry_trace_info"`
	ResList               []remitItem `json:"res_list"`
}

// handleRemitList handles "POST /v2.0/inquiry/remit_list": who paid into the
// TSP's own collection account through the hub (its customers' withdrawals),
// at most 25 per page, paged with befor_inquiry_trace_info.
func (s *Server) handleRemitList(w http.ResponseWriter, r *http.Request, f kftc.Fields, p *obx.Principal) error {
	v := kftc.NewValidator(f)
	tranID := v.BankTranID(p.ClientUseCode)
	bank := v.Digits("bank_code_std", 3, true)
	acct := v.Text("account_num", 16, true)
	fromDate := v.Digits("from_date", 8, true)
	fromTime := v.Digits("from_time", 6, false)
	toDate := v.Digits("to_date", 8, true)
	toTime := v.Digits("to_time", 6, false)
	order := v.OneOf("sort_order", "D", "D", "A")
	cursor := v.Text("befor_inquiry_trace_info", 20, false)
	v.Digits("tran_dtime", 14, true)
	if err := v.Err(); err != nil {
		return err
	}
	if fromTime == "" {
		fromTime = "000000"
	}
	if toTime == "" {
		toTime = "235959"
	}
	from, err1 := time.ParseInLocation(kftc.LayoutDtime, fromDate+fromTime, kftc.KST)
	to, err2 := time.ParseInLocation(kftc.LayoutDtime, toDate+toTime, kftc.KST)
	if err1 != nil || err2 != nil || to.Before(from) {
		return obx.Errorf(obx.EINVALID, "from and to must be valid dates and times, from before to")
	}
	page, err := s.Transfers.Remittances(r.Context(), p, obx.RemittanceQuery{
		BankCode: bank, AccountNum: acct, From: from, To: to.Add(time.Second - time.Nanosecond),
		Ascending: order == "A", Cursor: cursor, Limit: pageSize,
	})
	if err != nil {
		return err
	}
	b, err := s.Service.Banks.Bank(bank)
	if err != nil {
		return err
	}
	bal, err := b.Balance(r.Context(), acct)
	if err != nil {
		s.kftcError(w, r, err, s.bankFieldsFor(tranID, bank))
		return nil
	}
	resp := remitListResponse{
		Envelope: kftc.NewEnvelope(s.Now()), BankFields: *s.bankFieldsOK(tranID, bank, bal.BankTranDay),
		BankCodeStd: bank, AccountNum: acct, BankName: s.bankName(bank),
		BalanceAmt: strconv.FormatInt(bal.Balance, 10), TotalRecordCnt: strconv.Itoa(page.Total),
		PageRecordCnt: strconv.Itoa(len(page.Items)), NextPageYN: yn(page.Next != ""), BeforInquiryTraceInfo: page.Next,
		ResList: make([]remitItem, 0, len(page.Items)),
	}
	for _, t := range page.Items {
		at := t.UpdatedAt.In(kftc.KST)
		resp.ResList = append(resp.ResList, remitItem{
			TranDate: at.Format(kftc.LayoutDate), TranTime: at.Format(kftc.LayoutTime), TranType: "오픈뱅킹",
			PrintContent: t.Credit.PrintContent, TranAmt: strconv.FormatInt(t.Amount, 10),
			AfterBalanceAmt: strconv.FormatInt(t.CreditAfterBalance, 10),
			RemitterName:    t.Debit.HolderName, RemitterBankCode: t.Debit.BankCode,
			RemitterAccountNum: obx.MaskAccountNum(t.Debit.AccountNum),
		})
	}
	return s.ok(w, resp)
}
