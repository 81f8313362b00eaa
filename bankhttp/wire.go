package bankhttp

import (
	"fmt"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
)

// The wire structs of the protocol. Each has a new… function from the domain
// type and, where the server reads it or the client returns it, a toDomain.
// Times are RFC 3339 in UTC; amounts are JSON integers in minor units.

type signInRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// The lookup requests carry their identifiers in the body, never in the URL:
// CIs and full account numbers are personal data, and URLs end up in the
// access logs of every proxy and load balancer on the way.

type customerLookupRequest struct {
	CI string `json:"ci"`
}

type accountRequest struct {
	AccountNum string `json:"account_num"`
}

type transactionsRequest struct {
	AccountNum string `json:"account_num"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Direction  string `json:"direction,omitempty"`
	Order      string `json:"order,omitempty"` // "asc" or "desc" (the default)
	Cursor     string `json:"cursor,omitempty"`
	Limit      int    `json:"limit,omitempty"` // 0 for the bank's default
}

func newTransactionsRequest(q obx.TransactionQuery) transactionsRequest {
	order := "desc"
	if q.Ascending {
		order = "asc"
	}
	return transactionsRequest{
		AccountNum: q.AccountNum, From: formatTime(q.From), To: formatTime(q.To),
		Direction: q.Direction, Order: order, Cursor: q.Cursor, Limit: q.Limit,
	}
}

func (r transactionsRequest) toDomain() (obx.TransactionQuery, error) {
	q := obx.TransactionQuery{AccountNum: r.AccountNum, Direction: r.Direction, Cursor: r.Cursor, Limit: r.Limit}
	var err error
	if q.From, err = parseTime(r.From); err != nil {
		return obx.TransactionQuery{}, err
	}
	if q.To, err = parseTime(r.To); err != nil {
		return obx.TransactionQuery{}, err
	}
	switch r.Order {
	case "asc":
		q.Ascending = true
	case "", "desc":
	default:
		return obx.TransactionQuery{}, obx.Errorf(obx.EINVALID, "order must be asc or desc.")
	}
	if q.Limit < 0 {
		return obx.TransactionQuery{}, obx.Errorf(obx.EINVALID, "limit must be a non-negative integer.")
	}
	return q, nil
}

type customerJSON struct {
	CI        string        `json:"ci"`
	Name      string        `json:"name"`
	BirthDate string        `json:"birth_date"`
	Gender    string        `json:"gender"`
	CellNo    string        `json:"cell_no"`
	Email     string        `json:"email"`
	Accounts  []accountJSON `json:"accounts"`
}

func newCustomerJSON(c *obx.BankCustomer) customerJSON {
	out := customerJSON{
		CI: c.CI, Name: c.Name, BirthDate: c.BirthDate, Gender: c.Gender, CellNo: c.CellNo, Email: c.Email,
		Accounts: make([]accountJSON, len(c.Accounts)),
	}
	for i, a := range c.Accounts {
		out.Accounts[i] = newAccountJSON(&a)
	}
	return out
}

func (c customerJSON) toDomain() *obx.BankCustomer {
	out := &obx.BankCustomer{CI: c.CI, Name: c.Name, BirthDate: c.BirthDate, Gender: c.Gender, CellNo: c.CellNo, Email: c.Email}
	for _, a := range c.Accounts {
		out.Accounts = append(out.Accounts, *a.toDomain())
	}
	return out
}

type accountJSON struct {
	BankCode    string `json:"bank_code"`
	BranchCode  string `json:"branch_code"`
	Number      string `json:"number"`
	Seq         string `json:"seq"`
	HolderName  string `json:"holder_name"`
	HolderType  string `json:"holder_type"`
	HolderCI    string `json:"holder_ci"`
	Type        string `json:"type"`
	ProductName string `json:"product_name"`
	Currency    string `json:"currency"`
	OpenedOn    string `json:"opened_on"`
	MaturesOn   string `json:"matures_on"`
	Closed      bool   `json:"closed"`
}

func newAccountJSON(a *obx.BankAccount) accountJSON {
	return accountJSON{
		BankCode: a.BankCode, BranchCode: a.BranchCode, Number: a.Number, Seq: a.Seq,
		HolderName: a.HolderName, HolderType: a.HolderType, HolderCI: a.HolderCI, Type: a.Type,
		ProductName: a.ProductName, Currency: a.Currency, OpenedOn: a.OpenedOn, MaturesOn: a.MaturesOn,
		Closed: a.Closed,
	}
}

func (a accountJSON) toDomain() *obx.BankAccount {
	return &obx.BankAccount{
		BankCode: a.BankCode, BranchCode: a.BranchCode, Number: a.Number, Seq: a.Seq,
		HolderName: a.HolderName, HolderType: a.HolderType, HolderCI: a.HolderCI, Type: a.Type,
		ProductName: a.ProductName, Currency: a.Currency, OpenedOn: a.OpenedOn, MaturesOn: a.MaturesOn,
		Closed: a.Closed,
	}
}

type balanceJSON struct {
	Account     accountJSON `json:"account"`
	Balance     int64       `json:"balance"`
	Available   int64       `json:"available"`
	LastTranOn  string      `json:"last_tran_on"`
	BankTranDay string      `json:"bank_tran_day"`
}

func newBalanceJSON(b *obx.Balance) balanceJSON {
	return balanceJSON{
		Account: newAccountJSON(&b.Account), Balance: b.Balance, Available: b.Available,
		LastTranOn: b.LastTranOn, BankTranDay: b.BankTranDay,
	}
}

func (b balanceJSON) toDomain() *obx.Balance {
	return &obx.Balance{
		Account: *b.Account.toDomain(), Balance: b.Balance, Available: b.Available,
		LastTranOn: b.LastTranOn, BankTranDay: b.BankTranDay,
	}
}

type transactionPageJSON struct {
	Balance    int64             `json:"balance"`
	Items      []transactionJSON `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

type transactionJSON struct {
	At           string `json:"at"`
	Direction    string `json:"direction"` // "I" deposit, "O" withdrawal
	Type         string `json:"type"`
	PrintContent string `json:"print_content"`
	Amount       int64  `json:"amount"`
	AfterBalance int64  `json:"after_balance"`
	BranchName   string `json:"branch_name"`
}

func newTransactionPageJSON(p *obx.TransactionPage) transactionPageJSON {
	out := transactionPageJSON{Balance: p.Balance, NextCursor: p.NextCursor, Items: make([]transactionJSON, len(p.Items))}
	for i, t := range p.Items {
		dir := obx.DirectionOut
		if t.In {
			dir = obx.DirectionIn
		}
		out.Items[i] = transactionJSON{
			At: formatTime(t.At), Direction: dir, Type: t.Type, PrintContent: t.PrintContent,
			Amount: t.Amount, AfterBalance: t.AfterBalance, BranchName: t.BranchName,
		}
	}
	return out
}

func (p transactionPageJSON) toDomain() (*obx.TransactionPage, error) {
	out := &obx.TransactionPage{Balance: p.Balance, NextCursor: p.NextCursor}
	for _, t := range p.Items {
		at, err := time.Parse(time.RFC3339Nano, t.At)
		if err != nil {
			return nil, fmt.Errorf("transaction time %q: %w", t.At, err)
		}
		out.Items = append(out.Items, obx.Transaction{
			At: at.UTC(), In: t.Direction == obx.DirectionIn, Type: t.Type, PrintContent: t.PrintContent,
			Amount: t.Amount, AfterBalance: t.AfterBalance, BranchName: t.BranchName,
		})
	}
	return out, nil
}

type statusJSON struct {
	BankCode         string `json:"bank_code"`
	BankName         string `json:"bank_name"`
	Up               bool   `json:"up"`
	Maintenance      bool   `json:"maintenance"`
	MaintenanceUntil string `json:"maintenance_until,omitempty"`
	Message          string `json:"message"`
}

func newStatusJSON(code, name string, s *obx.BankStatus) statusJSON {
	return statusJSON{
		BankCode: code, BankName: name, Up: s.Up, Maintenance: s.Maintenance,
		MaintenanceUntil: formatTime(s.MaintenanceUntil), Message: s.Message,
	}
}

func (s statusJSON) toDomain() (*obx.BankStatus, error) {
	until, err := parseTime(s.MaintenanceUntil)
	if err != nil {
		return nil, err
	}
	return &obx.BankStatus{Up: s.Up, Maintenance: s.Maintenance, MaintenanceUntil: until, Message: s.Message}, nil
}

type operationJSON struct {
	ID           string `json:"id"`
	AccountNum   string `json:"account_num"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	PrintContent string `json:"print_content"`
	Counterparty string `json:"counterparty"`
	HolderName   string `json:"holder_name"`
}

func newOperationJSON(op obx.Operation) operationJSON {
	return operationJSON{
		ID: op.ID, AccountNum: op.AccountNum, Amount: op.Amount, Currency: op.Currency,
		PrintContent: op.PrintContent, Counterparty: op.Counterparty, HolderName: op.HolderName,
	}
}

func (o operationJSON) toDomain() obx.Operation {
	return obx.Operation{
		ID: o.ID, AccountNum: o.AccountNum, Amount: o.Amount, Currency: o.Currency,
		PrintContent: o.PrintContent, Counterparty: o.Counterparty, HolderName: o.HolderName,
	}
}

type operationResultJSON struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	RspCode      string `json:"rsp_code"`
	Message      string `json:"message"`
	AfterBalance int64  `json:"after_balance"`
	BankTranDay  string `json:"bank_tran_day"`
	HolderName   string `json:"holder_name"`
}

func newOperationResultJSON(r *obx.OperationResult) operationResultJSON {
	return operationResultJSON{
		ID: r.ID, Status: r.Status, RspCode: r.RspCode, Message: r.Message,
		AfterBalance: r.AfterBalance, BankTranDay: r.BankTranDay, HolderName: r.HolderName,
	}
}

func (r operationResultJSON) toDomain() *obx.OperationResult {
	return &obx.OperationResult{
		ID: r.ID, Status: r.Status, RspCode: r.RspCode, Message: r.Message,
		AfterBalance: r.AfterBalance, BankTranDay: r.BankTranDay, HolderName: r.HolderName,
	}
}

type faultsJSON struct {
	LatencyMS        int64   `json:"latency_ms"`
	ErrorRate        float64 `json:"error_rate"`
	TimeoutRate      float64 `json:"timeout_rate"`
	LostResponseRate float64 `json:"lost_response_rate"`
	Maintenance      bool    `json:"maintenance"`
	MaintenanceUntil string  `json:"maintenance_until,omitempty"`
	Down             bool    `json:"down"`
}

func newFaultsJSON(f banksim.Faults) faultsJSON {
	return faultsJSON{
		LatencyMS: f.Latency.Milliseconds(), ErrorRate: f.ErrorRate, TimeoutRate: f.TimeoutRate,
		LostResponseRate: f.LostResponseRate, Maintenance: f.Maintenance,
		MaintenanceUntil: formatTime(f.MaintenanceUntil), Down: f.Down,
	}
}

func (f faultsJSON) toDomain() (banksim.Faults, error) {
	until, err := parseTime(f.MaintenanceUntil)
	if err != nil {
		return banksim.Faults{}, err
	}
	if f.LatencyMS < 0 || f.LatencyMS > int64(time.Hour/time.Millisecond) {
		return banksim.Faults{}, obx.Errorf(obx.EINVALID, "latency_ms must be between 0 and 3600000.")
	}
	return banksim.Faults{
		Latency: time.Duration(f.LatencyMS) * time.Millisecond, ErrorRate: f.ErrorRate, TimeoutRate: f.TimeoutRate,
		LostResponseRate: f.LostResponseRate, Maintenance: f.Maintenance, MaintenanceUntil: until, Down: f.Down,
	}, nil
}

// errorJSON is the body of every error response.
type errorJSON struct {
	Code        string `json:"code"`                    // an obx error code, or codeRefused
	BankRspCode string `json:"bank_rsp_code,omitempty"` // set only with codeRefused
	Message     string `json:"message"`                 // safe to show
	Reason      string `json:"reason,omitempty"`        // one of the reason… constants
}

// formatTime renders t as RFC 3339 in UTC with the precision it has, "" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime parses RFC 3339; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, obx.Errorf(obx.EINVALID, "Time %q is not RFC 3339.", s)
	}
	return t.UTC(), nil
}
