package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Contract is the TSP's contract account, which every transfer debits or
// credits.
type Contract struct {
	BankCode   string
	Number     string
	HolderName string
	PassPhrase string // wd_pass_phrase of deposits
}

// Key identifies the contract account across banks.
func (c Contract) Key() AccountKey { return AccountKey{c.BankCode, c.Number} }

// Client speaks the KFTC transfer APIs as one TSP. Unlike a test helper it
// never fails a test: every answer, or its absence, becomes an Attempt.
type Client struct {
	// Bases are the base URLs of the hub's replicas, stable across restarts;
	// each request goes to one at random, so a retry may reach another
	// replica than the request it repeats.
	Bases    []string
	HTTP     *http.Client
	UseCode  string // client_use_code, the prefix of bank_tran_ids
	OOBToken string // client-credentials token with scope oob: deposits and results
	Contract Contract
	Now      func() time.Time
}

// TranDtime formats t as tran_dtime (KST).
func TranDtime(t time.Time) string { return t.In(kst).Format("20060102150405") }

var kst = time.FixedZone("KST", 9*60*60)

// WithdrawBody returns the body of op's withdraw/fin_num request. It is the
// same on every retry.
func (c *Client) WithdrawBody(op *Op) []byte {
	return mustJSON(map[string]string{
		"bank_tran_id":               op.BankTranID,
		"cntr_account_type":          "N",
		"cntr_account_num":           c.Contract.Number,
		"dps_print_content":          "워크로드 " + op.Account.HolderName,
		"fintech_use_num":            op.Account.FintechUseNum,
		"wd_print_content":           "워크로드 출금",
		"tran_amt":                   strconv.FormatInt(op.Amount, 10),
		"tran_dtime":                 op.TranDtime,
		"req_client_name":            op.Account.HolderName,
		"req_client_fintech_use_num": op.Account.FintechUseNum,
		"req_client_num":             "WL" + op.Account.UserSeqNo,
		"transfer_purpose":           "TR",
		"recv_client_name":           c.Contract.HolderName,
		"recv_client_bank_code":      c.Contract.BankCode,
		"recv_client_account_num":    c.Contract.Number,
	})
}

// DepositBody returns the body of one deposit/fin_num request paying every op
// in ops (1 to 25), which share their tran_dtime and name check.
func (c *Client) DepositBody(ops []*Op) []byte {
	items := make([]map[string]string, len(ops))
	for i, op := range ops {
		items[i] = map[string]string{
			"tran_no":          strconv.Itoa(i + 1),
			"bank_tran_id":     op.BankTranID,
			"fintech_use_num":  op.Account.FintechUseNum,
			"print_content":    "워크로드 입금",
			"tran_amt":         strconv.FormatInt(op.Amount, 10),
			"req_client_name":  op.Account.HolderName,
			"req_client_num":   "WL" + op.Account.UserSeqNo,
			"transfer_purpose": "TR",
		}
	}
	check := "off"
	if ops[0].NameCheck {
		check = "on"
	}
	return mustJSON(map[string]any{
		"cntr_account_type": "N",
		"cntr_account_num":  c.Contract.Number,
		"wd_pass_phrase":    c.Contract.PassPhrase,
		"wd_print_content":  "워크로드 지급",
		"name_check_option": check,
		"tran_dtime":        ops[0].TranDtime,
		"req_cnt":           strconv.Itoa(len(ops)),
		"req_list":          items,
	})
}

// Withdraw sends op's withdrawal once and returns what the answer said.
func (c *Client) Withdraw(ctx context.Context, op *Op, body []byte) Attempt {
	a := Attempt{Start: c.Now()}
	m, err := c.post(ctx, op.Account.Token, "/v2.0/transfer/withdraw/fin_num", body)
	a.End = c.Now()
	if err != nil {
		a.Outcome, a.Detail = Unknown, err.Error()
		return a
	}
	a.RspCode = str(m, "rsp_code")
	a.BankRspCode = str(m, "bank_rsp_code")
	a.Outcome, a.Detail = classify(a.RspCode, a.BankRspCode, str(m, "rsp_message"))
	if a.Outcome != Unknown && a.Outcome != Refused && str(m, "bank_tran_id") != op.BankTranID {
		a.Outcome, a.Detail = Unexpected, "answer names bank_tran_id "+str(m, "bank_tran_id")
	}
	return a
}

// Deposit sends one deposit request for ops once and returns one attempt per op.
func (c *Client) Deposit(ctx context.Context, ops []*Op, body []byte) []Attempt {
	start := c.Now()
	m, err := c.post(ctx, c.OOBToken, "/v2.0/transfer/deposit/fin_num", body)
	end := c.Now()
	out := make([]Attempt, len(ops))
	for i := range out {
		out[i] = Attempt{Start: start, End: end, Outcome: Unknown}
	}
	if err != nil {
		for i := range out {
			out[i].Detail = err.Error()
		}
		return out
	}
	code := str(m, "rsp_code")
	if code != "A0000" && code != "A0009" {
		// The whole request failed before any item was looked at.
		o, detail := classify(code, "", str(m, "rsp_message"))
		if o == InProgress || o == Completed || o == Failed {
			o, detail = Unexpected, "request-level "+code+" "+detail
		}
		for i := range out {
			out[i].Outcome, out[i].RspCode, out[i].Detail = o, code, detail
		}
		return out
	}
	items := list(m, "res_list")
	for i, op := range ops {
		var it map[string]any
		for _, x := range items {
			if str(x, "bank_tran_id") == op.BankTranID {
				it = x
			}
		}
		if it == nil {
			out[i].Outcome, out[i].Detail = Unexpected, "no res_list item for the bank_tran_id"
			continue
		}
		out[i].RspCode, out[i].BankRspCode = code, str(it, "bank_rsp_code")
		out[i].Outcome, out[i].Detail = classifyItem(out[i].BankRspCode, str(it, "bank_rsp_message"))
	}
	return out
}

// Results asks transfer/result about ops (1 to 25, all of one kind) and
// returns one attempt per op.
func (c *Client) Results(ctx context.Context, ops []*Op) []Attempt {
	checkType := "1"
	if ops[0].Kind == "deposit" {
		checkType = "2"
	}
	items := make([]map[string]string, len(ops))
	for i, op := range ops {
		items[i] = map[string]string{
			"tran_no": strconv.Itoa(i + 1), "org_bank_tran_id": op.BankTranID,
			"org_bank_tran_date": op.TranDay(), "org_tran_amt": strconv.FormatInt(op.Amount, 10),
		}
	}
	body := mustJSON(map[string]any{
		"check_type": checkType, "tran_dtime": TranDtime(c.Now()), "req_cnt": strconv.Itoa(len(ops)), "req_list": items,
	})
	start := c.Now()
	m, err := c.post(ctx, c.OOBToken, "/v2.0/transfer/result", body)
	end := c.Now()
	out := make([]Attempt, len(ops))
	for i := range out {
		out[i] = Attempt{Start: start, End: end, Result: true, Outcome: Unknown}
	}
	if err != nil {
		for i := range out {
			out[i].Detail = err.Error()
		}
		return out
	}
	code := str(m, "rsp_code")
	if code != "A0000" && code != "A0009" {
		for i := range out {
			out[i].RspCode, out[i].Detail = code, str(m, "rsp_message")
			if o, _ := classify(code, "", ""); o == Unexpected {
				out[i].Outcome = Unexpected
			}
		}
		return out
	}
	res := list(m, "res_list")
	for i, op := range ops {
		if i >= len(res) || str(res[i], "bank_tran_id") != op.BankTranID {
			out[i].Outcome, out[i].Detail = Unexpected, "res_list does not answer the items in order"
			continue
		}
		it := res[i]
		out[i].RspCode, out[i].BankRspCode = code, str(it, "bank_rsp_code")
		msg := str(it, "bank_rsp_message")
		switch {
		case out[i].BankRspCode == "000":
			out[i].Outcome = Completed
		case out[i].BankRspCode != "":
			out[i].Outcome, out[i].Detail = Failed, msg
		case strings.Contains(msg, "이체 내역 없음"):
			out[i].Outcome = NotFound
		case strings.Contains(msg, "처리 중"):
			out[i].Outcome = InProgress
		default:
			out[i].Outcome, out[i].Detail = Unexpected, "result item without code: "+msg
		}
	}
	return out
}

// classify reads a transfer answer's rsp_code (and, for A0002, whether the
// bank fields carry the code that failed the transfer).
func classify(code, bankRsp, msg string) (Outcome, string) {
	switch code {
	case "A0000":
		if bankRsp != "000" {
			return Unexpected, "A0000 with bank_rsp_code " + bankRsp
		}
		return Completed, ""
	case "A0001":
		return InProgress, ""
	case "A0002":
		if bankRsp != "" {
			return Failed, msg
		}
		return Unknown, msg // a bank error before the transfer was recorded, or the bank is down
	case "A0101", "A0103", "A0105", "A0112":
		return Refused, code
	case "A0003", "A0007", "A0013", "A0017", "A0020":
		return Unknown, msg
	}
	return Unexpected, code + " " + msg
}

// classifyItem reads one deposit item: its bank_rsp_code, or for an item
// refused before acceptance, the "[code] message" the hub puts in its
// bank_rsp_message.
func classifyItem(bankRsp, msg string) (Outcome, string) {
	switch {
	case bankRsp == "000":
		return Completed, ""
	case bankRsp != "":
		return Failed, msg
	case msg == "":
		return InProgress, ""
	case strings.HasPrefix(msg, "[") && len(msg) > 6:
		o, detail := classify(msg[1:6], "", msg)
		if o == Completed || o == Failed || o == InProgress {
			return Unexpected, msg
		}
		return o, detail
	}
	return Unexpected, "item: " + msg
}

// post sends a KFTC POST with a JSON body and decodes the answer. An error
// means no usable answer: the outcome is unknown.
func (c *Client) post(ctx context.Context, token, path string, body []byte) (map[string]any, error) {
	base := c.Bases[rand.IntN(len(c.Bases))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %.200s", b)
	}
	return m, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func list(m map[string]any, k string) []map[string]any {
	raw, _ := m[k].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if o, ok := r.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}
